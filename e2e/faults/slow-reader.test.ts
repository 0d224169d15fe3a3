import { createEventStream } from '@unbroken/client'
import { createMemoryEventLog, type Producer } from '@unbroken/server'
import { createFaultProxy, type FaultProxy, waitFor } from '@unbroken/test-kit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { assertSameEvents } from '../support/compare'
import { collect } from '../support/read'
import { type RegistryServer, startRegistryServer } from './registry-server'
import { readLog, sourceEvents } from './source'

const DRAIN_TIMEOUT_MS = 200
// ~16 KiB events, up to 64 MiB in all: more than the kernel can buffer between the server and a
// reader that stopped reading (Linux autotunes socket buffers up to tcp_wmem + tcp_rmem).
const PADDING = 'ünïcödé '.repeat(1_800)
const MAX_EVENTS = 4_000

describe('a reader too slow for the server', () => {
  let server: RegistryServer
  let proxy: FaultProxy
  let disconnected = false

  // Generates until the server has dropped the slow reader, then a little more: however much the
  // socket buffers absorb, the server eventually blocks, times out and disconnects.
  const generation: Producer = async (stream) => {
    let tail = 20
    for (const [i, { event, data }] of sourceEvents(MAX_EVENTS).entries()) {
      if (disconnected && --tail === 0) return
      await stream.send({ event, data: `${data} ${PADDING}` })
      if (i % 10 === 9) await new Promise((resolve) => setImmediate(resolve))
    }
  }

  beforeAll(async () => {
    server = await startRegistryServer({
      log: createMemoryEventLog({ maxBytes: 256 * 1024 * 1024, ttlMs: 60_000 }),
      hub: { drainTimeoutMs: DRAIN_TIMEOUT_MS },
    })
    // The first connection stops reading early: only the test releases it, once the server has
    // given up on it.
    proxy = await createFaultProxy({
      targetPort: server.port,
      plan: ({ index }) => (index === 0 ? { stallAt: 100_000 } : {}),
    })
  })
  afterAll(async () => {
    await proxy?.close()
    await server?.close()
  })

  it('is disconnected at the drain timeout and resumes without loss', {
    timeout: 60_000,
  }, async () => {
    const started = await server.registry.start(generation)
    const stream = createEventStream(`${proxy.origin}${started.url}`, {
      idleTimeoutMs: 0,
      backoff: { initialMs: 0 },
    })
    const reading = collect(stream, { timeoutMs: 45_000 })
    await waitFor(() => server.hub.metrics().disconnects['slow-client'] > 0, {
      timeoutMs: 30_000,
      what: 'the server to disconnect the stalled reader as slow-client',
    })
    disconnected = true
    proxy.connections[0]?.release()
    const { events, snapshot } = await reading
    const reference = await readLog(server.log, started.id)
    assertSameEvents({ scenario: 'slow reader past the drain timeout' }, reference, events)
    // A reader slowed down by a loaded machine may be dropped again while it catches up: each
    // time it resumes, and nothing is lost.
    expect(snapshot.closeReason).toBe('done')
    expect(snapshot.reconnects).toBeGreaterThanOrEqual(1)
  })
})
