// The backoff arithmetic as the reader lives it: fake timers and an injected fetch, so each test
// can step the clock to one millisecond before a retry is due and see that no request went out.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createEventStream } from './stream'
import type { EventStreamOptions } from './types'

const finished = () =>
  new Response('id: 1\nevent: done\ndata: {}\n\n', {
    headers: { 'content-type': 'text/event-stream' },
  })

// Answers each attempt with the next response of `answers`, then with a finished stream.
const start = (answers: Array<() => Response>, options: EventStreamOptions = {}) => {
  const fetch = vi.fn(async () => (answers.shift() ?? finished)())
  const stream = createEventStream('http://127.0.0.1:1/s', { fetch, random: () => 1, ...options })
  return { fetch, stream }
}

// Advances the fake clock by `ms` and returns how many requests have gone out by then.
const after = async (fetch: { mock: { calls: unknown[] } }, ms: number) => {
  await vi.advanceTimersByTimeAsync(ms)
  return fetch.mock.calls.length
}

beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
})

describe('the reader waits its backoff delay', () => {
  it('doubling from initialMs, and not a millisecond less', async () => {
    const failure = () => new Response(null, { status: 500 })
    const { fetch, stream } = start([failure, failure, failure], { backoff: { initialMs: 100 } })
    expect(await after(fetch, 0)).toBe(1)
    expect(await after(fetch, 99)).toBe(1)
    expect(await after(fetch, 1)).toBe(2)
    expect(await after(fetch, 199)).toBe(2)
    expect(await after(fetch, 1)).toBe(3)
    expect(await after(fetch, 399)).toBe(3)
    expect(await after(fetch, 1)).toBe(4)
    expect(stream.getSnapshot()).toMatchObject({ status: 'closed', closeReason: 'done' })
  })

  it('Retry-After, plus the jittered backoff so a crowd told the same does not return at once', async () => {
    const busy = () => new Response(null, { status: 503, headers: { 'retry-after': '2' } })
    const { fetch } = start([busy], { backoff: { initialMs: 10 } })
    expect(await after(fetch, 2009)).toBe(1)
    expect(await after(fetch, 1)).toBe(2)
  })

  it("from the server's retry: when the stream is cut", async () => {
    const cut = () =>
      new Response('retry: 700\n\n', { headers: { 'content-type': 'text/event-stream' } })
    const { fetch } = start([cut], { backoff: { initialMs: 10 } })
    expect(await after(fetch, 699)).toBe(1)
    expect(await after(fetch, 1)).toBe(2)
  })

  it('not at all after a credential refresh', async () => {
    const unauthorized = () => new Response(null, { status: 401 })
    const { fetch, stream } = start([unauthorized], {
      backoff: { initialMs: 60_000 },
      onAuthRequired: () => {},
    })
    expect(await after(fetch, 0)).toBe(2)
    expect(stream.getSnapshot().closeReason).toBe('done')
  })

  it('and leaves no timer behind when onReconnect closes the stream', async () => {
    const { fetch, stream } = start([() => new Response(null, { status: 503 })], {
      onReconnect: () => stream.close(),
    })
    // A `for await` loop makes the backoff timer hold the process: it must still be cleared.
    const loop = (async () => {
      for await (const _ of stream);
    })()
    expect(await after(fetch, 0)).toBe(1)
    await loop
    expect(vi.getTimerCount()).toBe(0)
  })
})
