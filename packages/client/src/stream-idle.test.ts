import { setTimeout as sleep } from 'node:timers/promises'
import { afterEach, describe, expect, it } from 'vitest'
import { collect, formatEvent, openStream, startServer, type TestServer } from '../test/server'
import { createEventStream } from './stream'

let server: TestServer | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

const done = formatEvent({ id: 'end', event: 'done', data: '{}' })

describe('idle watchdog', () => {
  it('aborts a connection that goes silent and resumes from the last id', async () => {
    server = await startServer((_, res, index) => {
      openStream(res)
      // The first connection sends one event, then nothing, and stays open.
      res.write(index === 0 ? formatEvent({ id: '1', data: 'a' }) : done)
      if (index > 0) res.end()
    })
    const reasons: string[] = []
    const { items } = await collect(
      createEventStream(`${server.origin}/s`, {
        idleTimeoutMs: 200,
        backoff: { initialMs: 0 },
        onReconnect: ({ error }) => reasons.push(error.code),
      }),
    )
    expect(reasons).toEqual(['idle-timeout'])
    expect(server.requests[1]?.lastEventId).toBe('1')
    expect(items.map((event) => event.data)).toEqual(['a', '{}'])
  })

  it('also covers a server that never sends response headers', async () => {
    server = await startServer((_, res, index) => {
      if (index > 0) {
        openStream(res)
        res.end(done)
      }
    })
    const reasons: string[] = []
    await collect(
      createEventStream(`${server.origin}/s`, {
        idleTimeoutMs: 200,
        backoff: { initialMs: 0 },
        onReconnect: ({ error }) => reasons.push(error.code),
      }),
    )
    expect(reasons).toEqual(['idle-timeout'])
  })

  it('counts keepalive comments as life', async () => {
    // Comments every 20 ms for 600 ms: the 300 ms watchdog would fire if comments did not reset it.
    server = await startServer(async (_, res) => {
      openStream(res)
      for (let i = 0; i < 30; i++) {
        res.write(': keepalive\n')
        await sleep(20)
      }
      res.end(done)
    })
    const reasons: string[] = []
    const { items } = await collect(
      createEventStream(`${server.origin}/s`, {
        idleTimeoutMs: 300,
        onReconnect: ({ error }) => reasons.push(error.code),
      }),
    )
    expect(reasons).toEqual([])
    expect(items).toHaveLength(1)
  })
})
