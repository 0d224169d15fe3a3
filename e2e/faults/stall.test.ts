import { createEventStream } from '@unbroken/client'
import { createFaultProxy, type FaultProxy } from '@unbroken/test-kit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { assertSameEvents, type ComparableEvent } from '../support/compare'
import { collect } from '../support/read'
import { type RegistryServer, startRegistryServer } from './registry-server'
import { produce, readLog, sourceEvents } from './source'

describe('a connection that stalls beyond the idle timeout', () => {
  let server: RegistryServer
  let proxy: FaultProxy
  let url: string
  let reference: readonly ComparableEvent[]

  beforeAll(async () => {
    server = await startRegistryServer()
    const started = await server.registry.start(produce(sourceEvents(2_000)))
    reference = await readLog(server.log, started.id)
    // The first connection goes silent mid-stream, mid-event; later ones are healthy.
    proxy = await createFaultProxy({
      targetPort: server.port,
      plan: ({ index }) => (index === 0 ? { stallAt: 40_003 } : {}),
    })
    url = `${proxy.origin}${started.url}`
  })
  afterAll(async () => {
    await proxy?.close()
    await server?.close()
  })

  it('is abandoned by the idle watchdog and resumed without loss', async () => {
    const reasons: string[] = []
    const stream = createEventStream(url, {
      idleTimeoutMs: 300,
      backoff: { initialMs: 0 },
      onReconnect: ({ error }) => reasons.push(error.code),
    })
    const { events, snapshot } = await collect(stream)
    assertSameEvents({ scenario: 'stall beyond the idle timeout' }, reference, events)
    expect(reasons).toEqual(['idle-timeout'])
    expect(snapshot.closeReason).toBe('done')
  })
})
