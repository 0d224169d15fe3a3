import { describe, expect, it } from 'vitest'
import { formatEvent, type Handler, openStream, sendDone, useServer } from '../test/server'
import type { EventStreamOptions, RetryContext } from './types'

const loopback = useServer()

// Runs a stream to its end and records what the retry policy decided; `shouldRetry` answers 0 so
// the test never waits the delay it inspects.
const run = async (handler: Handler, options: EventStreamOptions = {}) => {
  const contexts: RetryContext[] = []
  const result = await loopback.read(handler, {
    random: () => 1,
    shouldRetry: (context) => {
      contexts.push(context)
      return context.retry && 0
    },
    ...options,
  })
  return { ...result, contexts }
}

describe('retry delays', () => {
  it('waits at least Retry-After seconds', async () => {
    const { contexts } = await run(
      (_, res, index) =>
        index === 0 ? res.writeHead(503, { 'retry-after': '7' }).end() : sendDone(res),
      { random: () => 0 },
    )
    expect(contexts.map((context) => context.delayMs)).toEqual([7000])
    expect(contexts[0]?.error.retryAfterMs).toBe(7000)
  })

  it('waits until a Retry-After HTTP-date', async () => {
    const { contexts } = await run(
      (_, res, index) =>
        index === 0
          ? res.writeHead(429, { 'retry-after': new Date(Date.now() + 30_000).toUTCString() }).end()
          : sendDone(res),
      { random: () => 0 },
    )
    // HTTP-dates have whole seconds, so the delay lands within a second of 30 s.
    expect(contexts[0]?.delayMs).toBeGreaterThan(28_000)
    expect(contexts[0]?.delayMs).toBeLessThanOrEqual(30_000)
  })

  it.each([
    ['Retry-After: 99999999', { 'retry-after': '99999999' }],
    [
      'a Retry-After date ten years out',
      { 'retry-after': new Date(Date.now() + 3.2e11).toUTCString() },
    ],
  ])('caps %s at maxRetryAfterMs (60 s by default)', async (_, headers) => {
    const { contexts } = await run(
      (_, res, index) => (index === 0 ? res.writeHead(503, headers).end() : sendDone(res)),
      { random: () => 0 },
    )
    expect(contexts.map((context) => context.delayMs)).toEqual([60_000])
    expect(contexts[0]?.error.retryAfterMs).toBeGreaterThan(60_000)
  })

  it('caps retryAfterMs: 1e15 of an error event at the maxRetryAfterMs given', async () => {
    const { contexts } = await run(
      (_, res, index) => {
        if (index === 1) return sendDone(res)
        openStream(res)
        res.end(
          formatEvent({
            event: 'error',
            data: JSON.stringify({
              code: 'busy',
              message: 'later',
              retryable: true,
              retryAfterMs: 1e15,
            }),
          }),
        )
      },
      { random: () => 0, maxRetryAfterMs: 5000 },
    )
    expect(contexts.map((context) => context.delayMs)).toEqual([5000])
  })

  it('backs off from four times the base on 429', async () => {
    const { contexts } = await run(
      (_, res, index) => (index < 2 ? res.writeHead(429).end() : sendDone(res)),
      { backoff: { initialMs: 100 } },
    )
    expect(contexts.map((context) => context.delayMs)).toEqual([400, 800])
  })

  it("uses the server's retry: as the base delay", async () => {
    const { contexts } = await run((_, res, index) => {
      if (index === 2) return sendDone(res)
      openStream(res)
      res.end('retry: 250\n\n')
    })
    expect(contexts.map((context) => context.delayMs)).toEqual([250, 500])
  })

  it('clamps retry: 3000000000 to 60 s instead of overflowing into a reconnect storm', async () => {
    const { contexts } = await run((_, res, index) => {
      if (index === 1) return sendDone(res)
      openStream(res)
      res.end('retry: 3000000000\n\n')
    })
    expect(contexts.map((context) => context.delayMs)).toEqual([60_000])
  })

  it('grows exponentially and restarts after a healthy open', async () => {
    const { contexts } = await run(
      (_, res, index) => {
        if (index === 3) return sendDone(res)
        if (index < 2) return res.writeHead(500).end()
        openStream(res)
        res.end(formatEvent({ id: '1', data: 'ok' }))
      },
      { backoff: { initialMs: 100 } },
    )
    expect(contexts.map((context) => [context.attempt, context.delayMs])).toEqual([
      [1, 100],
      [2, 200],
      [1, 100],
    ])
  })

  it('reports the delay it will wait to onReconnect, as shouldRetry chose it', async () => {
    const delays: number[] = []
    await run((_, res, index) => (index === 0 ? res.writeHead(500).end() : sendDone(res)), {
      shouldRetry: () => 3,
      onReconnect: ({ delayMs }) => delays.push(delayMs),
    })
    expect(delays).toEqual([3])
  })
})

describe('interrupted streams', () => {
  it('resumes after a clean end without a terminal event, from the last id', async () => {
    const { items, error } = await run((_, res, index) => {
      if (index === 1) return sendDone(res)
      openStream(res)
      res.end(formatEvent({ id: '1', data: 'a' }))
    })
    expect(error).toBeUndefined()
    expect(items.map((event) => event.data)).toEqual(['a', '{}'])
    expect(loopback.server.requests[1]?.lastEventId).toBe('1')
  })

  it('resumes after the socket is destroyed mid-event', async () => {
    const { items, contexts } = await run((_, res, index) => {
      if (index === 1) return sendDone(res)
      openStream(res)
      res.write(`${formatEvent({ id: '1', data: 'a' })}id: 2\ndata: par`, () => res.destroy())
    })
    expect(contexts[0]?.error.code).toBe('network')
    expect(items.map((event) => event.data)).toEqual(['a', '{}'])
    expect(loopback.server.requests[1]?.lastEventId).toBe('1')
  })
})

describe('error events', () => {
  const errorEvent = (body: object) =>
    formatEvent({ id: 'e', event: 'error', data: JSON.stringify(body) })

  it('fails on a non-retryable error event with server-error and its code', async () => {
    const { error, items } = await run((_, res) => {
      openStream(res)
      res.end(errorEvent({ code: 'model-failed', message: 'upstream died', retryable: false }))
    })
    expect(error).toMatchObject({ code: 'server-error', serverCode: 'model-failed' })
    expect(error?.message).toContain('upstream died')
    expect(items).toEqual([])
    expect(loopback.server.requests).toHaveLength(1)
  })

  it('resumes after a retryable error event, past its id, waiting retryAfterMs', async () => {
    const { contexts, items } = await run(
      (_, res, index) => {
        if (index === 1) return sendDone(res)
        openStream(res)
        res.write(
          errorEvent({ code: 'overloaded', message: 'busy', retryable: true, retryAfterMs: 1500 }),
        )
      },
      { random: () => 0 },
    )
    expect(contexts.map((context) => context.delayMs)).toEqual([1500])
    expect(loopback.server.requests[1]?.lastEventId).toBe('e')
    expect(items.map((event) => event.type)).toEqual(['done'])
  })

  it('fails on an error event whose data is not JSON', async () => {
    const { error } = await run((_, res) => {
      openStream(res)
      res.end(formatEvent({ event: 'error', data: 'oops' }))
    })
    expect(error).toMatchObject({ code: 'server-error', retryable: false })
    expect(error?.message).toContain('oops')
  })
})

describe('giving up', () => {
  it('stops after maxAttempts failed attempts with retries-exhausted', async () => {
    const { error, server } = await loopback.read((_, res) => res.writeHead(502).end(), {
      maxAttempts: 3,
      backoff: { initialMs: 0 },
    })
    expect(error).toMatchObject({ code: 'retries-exhausted', status: 502, cause: { status: 502 } })
    expect(server.requests).toHaveLength(3)
  })

  it('gives up at once when the next attempt would start after maxElapsedMs', async () => {
    const { error, server } = await loopback.read(
      (_, res) => res.writeHead(503, { 'retry-after': '10' }).end(),
      { maxElapsedMs: 5000 },
    )
    expect(error).toMatchObject({ code: 'retries-exhausted' })
    expect(server.requests).toHaveLength(1)
  })

  it('fails with the error itself when shouldRetry returns false', async () => {
    const { error } = await run((_, res) => res.writeHead(500).end(), { shouldRetry: () => false })
    expect(error).toMatchObject({ code: 'http-status', status: 500 })
    expect(loopback.server.requests).toHaveLength(1)
  })

  it('lets shouldRetry retry what the policy would fail', async () => {
    const { items } = await run(
      (_, res, index) => (index === 0 ? res.writeHead(400).end() : sendDone(res)),
      { shouldRetry: (context) => context.status === 400 && 0 },
    )
    expect(items).toHaveLength(1)
  })
})
