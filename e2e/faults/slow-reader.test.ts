import { createEventStream } from '@unbroken/client'
import { createMemoryEventLog } from '@unbroken/server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createFaultProxy, type FaultProxy } from '../fault-proxy'
import { assertSameEvents, type ComparableEvent } from '../support/compare'
import { collect } from '../support/read'
import { type RegistryServer, startRegistryServer } from './registry-server'
import { produce, readLog, sourceEvents } from './source'

// 2,000 events of ~4 KiB: far more than the socket buffers between server and reader can hold,
// so a reader that stops reading really pushes back on the server.
const BIG = sourceEvents(2_000).map(({ event, data }) => ({
  event,
  data: `${data} ${'ünïcödé '.repeat(400)}`,
}))
const DRAIN_TIMEOUT_MS = 200

describe('a reader too slow for the server', () => {
  let server: RegistryServer
  let proxy: FaultProxy
  let url: string
  let reference: readonly ComparableEvent[]

  beforeAll(async () => {
    server = await startRegistryServer({
      log: createMemoryEventLog({ maxBytes: 64 * 1024 * 1024, ttlMs: 60_000 }),
      hub: { drainTimeoutMs: DRAIN_TIMEOUT_MS },
    })
    const started = await server.registry.start(produce(BIG))
    reference = await readLog(server.log, started.id)
    // The first connection stops reading early, and catches up only once the server has given
    // up on it: the test cannot finish unless the server disconnects the slow reader.
    proxy = await createFaultProxy({
      targetPort: server.port,
      plan: ({ index }) => (index === 0 ? { stallAt: 100_000 } : {}),
    })
    server.hub.onMetrics((change) => {
      if (change.type === 'stream-close' && change.reason === 'slow-client')
        proxy.connections[0]?.release()
    })
    url = `${proxy.origin}${started.url}`
  })
  afterAll(async () => {
    await proxy?.close()
    await server?.close()
  })

  it('is disconnected at the drain timeout and resumes without loss', async () => {
    const stream = createEventStream(url, { idleTimeoutMs: 0, backoff: { initialMs: 0 } })
    const { events, snapshot } = await collect(stream, { timeoutMs: 30_000 })
    assertSameEvents({ scenario: 'slow reader past the drain timeout' }, reference, events)
    expect(snapshot).toMatchObject({ closeReason: 'done', reconnects: 1 })
    expect(server.hub.metrics().disconnects['slow-client']).toBe(1)
  })
})
