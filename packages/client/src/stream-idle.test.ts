import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { collect, doneEvent, formatEvent, openStream, useServer } from '../test/server'
import { createEventStream } from './stream'

const loopback = useServer()

describe('idle watchdog', () => {
  it('aborts a connection that goes silent and resumes from the last id', async () => {
    const server = await loopback.start((_, res, index) => {
      openStream(res)
      // The first connection sends one event, then nothing, and stays open.
      res.write(index === 0 ? formatEvent({ id: '1', data: 'a' }) : doneEvent)
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

  it('leaves a server that never sends response headers to the headers timeout', async () => {
    const server = await loopback.start((_, res, index) => {
      if (index > 0) {
        openStream(res)
        res.end(doneEvent)
      }
    })
    const reasons: string[] = []
    await collect(
      createEventStream(`${server.origin}/s`, {
        headersTimeoutMs: 200,
        backoff: { initialMs: 0 },
        onReconnect: ({ error }) => reasons.push(error.code),
      }),
    )
    expect(reasons).toEqual(['headers-timeout'])
  })

  it('gives slow response headers the headers timeout (60 s by default), not the shorter idle timeout', async () => {
    // Headers after 400 ms, as from a loaded server that queued the request; idle is 100 ms.
    const server = await loopback.start(async (_, res) => {
      await sleep(400)
      openStream(res)
      res.end(doneEvent)
    })
    const reasons: string[] = []
    const { items } = await collect(
      createEventStream(`${server.origin}/s`, {
        idleTimeoutMs: 100,
        // Were the headers given the idle timeout, the test would fail fast, not time out.
        maxAttempts: 2,
        onReconnect: ({ error }) => reasons.push(error.code),
      }),
    )
    expect(reasons).toEqual([])
    expect(items).toHaveLength(1)
  })

  it('counts keepalive comments as life', async () => {
    // Comments every 20 ms for 600 ms: the 300 ms watchdog would fire if comments did not reset it.
    const server = await loopback.start(async (_, res) => {
      openStream(res)
      for (let i = 0; i < 30; i++) {
        res.write(': keepalive\n')
        await sleep(20)
      }
      res.end(doneEvent)
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
