import { setTimeout as sleep } from 'node:timers/promises'
import { createEventStream } from '@unbroken/client'
import type { Producer } from '@unbroken/server'
import { afterEach, describe, expect, it } from 'vitest'
import { assertSameEvents } from '../support/compare'
import { collect } from '../support/read'
import { type RegistryServer, startRegistryServer } from './registry-server'
import { produce, readLog, sourceEvents } from './source'

const SOURCE = sourceEvents(100)

// A generation that thinks for a while mid-stream, as a model does before a tool call.
const thinking =
  (pauseMs: number): Producer =>
  async (stream) => {
    await produce(SOURCE.slice(0, 50))(stream, undefined)
    await sleep(pauseMs)
    await produce(SOURCE.slice(50))(stream, undefined)
  }

describe('server and client liveness timers together', () => {
  let server: RegistryServer | undefined
  afterEach(async () => {
    await server?.close()
  })

  it('keeps a silent stream open: keepalive comments feed the idle watchdog', async () => {
    server = await startRegistryServer({
      hub: { keepAliveMs: 100 },
      producer: () => thinking(1_500),
    })
    const reasons: string[] = []
    const stream = createEventStream(server.streamsUrl, {
      method: 'POST',
      idleTimeoutMs: 600,
      onReconnect: ({ error }) => reasons.push(error.code),
    })
    const { events, snapshot } = await collect(stream)
    expect(reasons).toEqual([])
    expect(snapshot).toMatchObject({ closeReason: 'done', reconnects: 0 })
    const id = new URL(stream.url).pathname.split('/').pop() ?? ''
    assertSameEvents(
      { scenario: 'keepalive through a silence' },
      await readLog(server.log, id),
      events,
    )
  })

  it('resumes without loss when the server ends a connection at its maximum lifetime', async () => {
    server = await startRegistryServer({
      hub: { maxDurationMs: 300 },
      producer: () => thinking(1_000),
    })
    const reasons: (string | undefined)[] = []
    const stream = createEventStream(server.streamsUrl, {
      method: 'POST',
      backoff: { initialMs: 0 },
      onReconnect: ({ error }) => reasons.push(error.serverCode),
    })
    const { events, snapshot } = await collect(stream)
    expect(reasons.length).toBeGreaterThanOrEqual(1)
    expect(new Set(reasons)).toEqual(new Set(['timeout']))
    expect(snapshot.closeReason).toBe('done')
    const id = new URL(stream.url).pathname.split('/').pop() ?? ''
    assertSameEvents(
      { scenario: 'maximum connection lifetime' },
      await readLog(server.log, id),
      events,
    )
  })
})
