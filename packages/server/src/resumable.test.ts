import { readSse } from '@unbroken/test-kit'
import { describe, expect, it, vi } from 'vitest'
import { createEventHub } from './hub'
import type { EventLog } from './log'
import { createMemoryEventLog } from './memory-log'
import { createResumableStreams, createStreamId } from './resumable'
import type { StreamRequest } from './resumable-http'
import type { Producer } from './resumable-producer'
import type { ResumableStreamsOptions } from './resumable-types'
import { cleanUpAfterEach, drivenProducer, onCleanup, setup } from './test-resumable'

cleanUpAfterEach()

/** Tails the log until it holds `n` events for the stream behind `location`. */
async function logged(log: EventLog, location: string, n: number) {
  const id = location.split('/').pop() ?? ''
  const controller = new AbortController()
  let count = 0
  for await (const _ of log.read(id, { signal: controller.signal })) {
    count += 1
    if (count >= n) controller.abort()
  }
}

describe('POST', () => {
  it('streams the producer with Content-Location and ends with done', async () => {
    const driven = drivenProducer()
    const { url } = await setup(driven.producer)
    const response = await fetch(url('/chat'), { method: 'POST' })
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
    expect(response.headers.get('content-location')).toMatch(/^\/streams\/[A-Za-z0-9_-]{22}$/)
    driven.push('Hel', 'lo')
    driven.finish()
    const events = await readSse(response).rest()
    expect(events.map(({ event, data }) => ({ event, data }))).toEqual([
      { event: 'delta', data: 'Hel' },
      { event: 'delta', data: 'lo' },
      { event: 'done', data: '{}' },
    ])
    expect(events.every((e) => e.id !== undefined)).toBe(true)
  })

  it('answers 405 to a POST when no producer is given', async () => {
    const { url } = await setup()
    expect((await fetch(url('/chat'), { method: 'POST' })).status).toBe(405)
  })

  it('refuses a stream past maxConcurrentStreams with 429, Retry-After and error JSON', async () => {
    const first = drivenProducer()
    const { url, streams } = await setup(first.producer, {
      maxConcurrentStreams: 1,
      retryAfterMs: 2000,
    })
    const open = await fetch(url('/chat'), { method: 'POST' })
    await first.started
    const refused = await fetch(url('/chat'), { method: 'POST' })
    expect(refused.status).toBe(429)
    const body = await refused.json()
    expect(body).toEqual({
      code: 'stream-limit',
      message: expect.any(String),
      retryable: true,
      retryAfterMs: expect.any(Number),
    })
    // Between one and two retryAfterMs, so that refused clients come back spread out.
    expect(body.retryAfterMs).toBeGreaterThanOrEqual(2000)
    expect(body.retryAfterMs).toBeLessThanOrEqual(4000)
    expect(refused.headers.get('retry-after')).toBe(String(Math.ceil(body.retryAfterMs / 1000)))
    expect(streams.active).toBe(1)
    await open.body?.cancel()
  })
})

describe('Retry-After', () => {
  it('spreads refused clients over one to two retryAfterMs instead of one wave', async () => {
    const first = drivenProducer()
    const { url } = await setup(first.producer, { maxConcurrentStreams: 1, retryAfterMs: 1000 })
    const open = await fetch(url('/chat'), { method: 'POST' })
    await first.started
    const advised: number[] = []
    for (let i = 0; i < 20; i++) {
      const refused = await fetch(url('/chat'), { method: 'POST' })
      advised.push(((await refused.json()) as { retryAfterMs: number }).retryAfterMs)
    }
    expect(Math.min(...advised)).toBeGreaterThanOrEqual(1000)
    expect(Math.max(...advised)).toBeLessThanOrEqual(2000)
    expect(new Set(advised).size).toBeGreaterThan(1)
    await open.body?.cancel()
  })
})

describe('start', () => {
  it('holds maxConcurrentStreams against starts racing each other', async () => {
    const { streams } = await setup(undefined, { maxConcurrentStreams: 1 })
    const results = await Promise.allSettled([
      streams.start(drivenProducer().producer),
      streams.start(drivenProducer().producer),
    ])
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected'])
    expect(results.find((r) => r.status === 'rejected')).toMatchObject({
      reason: { code: 'stream-limit' },
    })
  })

  it('hands options.request to the producer', async () => {
    const { streams, log } = await setup()
    const { id } = await streams.start(
      async (stream, request: { prompt: string }) => {
        await stream.send({ event: 'delta', data: request.prompt })
      },
      { request: { prompt: 'hi' } },
    )
    const data: string[] = []
    for await (const event of log.read(id)) data.push(event.data)
    expect(data).toEqual(['hi', '{}'])
  })

  it('requires options.request of a producer that takes one (checked by tsc)', async () => {
    const { streams } = await setup()
    // Reads nothing at run time: the check is tsc's, on the call below.
    const needsPrompt: Producer<{ prompt: string }> = async () => {}
    // @ts-expect-error: without a request this producer would get `undefined` for its prompt.
    await expect(streams.start(needsPrompt)).resolves.toHaveProperty('id')
  })
})

describe('GET (resume)', () => {
  it('replays exactly the events after Last-Event-ID, then continues live', async () => {
    const driven = drivenProducer()
    const { url, log } = await setup(driven.producer)
    const first = await fetch(url('/chat'), { method: 'POST' })
    const location = first.headers.get('content-location') ?? ''
    driven.push('a', 'b', 'c')
    const firstReader = readSse(first)
    const seen = await firstReader.take(3)
    await firstReader.cancel()
    driven.push('d', 'e')
    await logged(log, location, 5)
    const resumed = await fetch(url(location), { headers: { 'Last-Event-ID': seen[1]?.id ?? '' } })
    expect(resumed.status).toBe(200)
    const reader = readSse(resumed)
    const replay = await reader.take(3)
    driven.push('f')
    driven.finish()
    const live = await reader.rest()
    expect([...replay, ...live].map((e) => e.data)).toEqual(['c', 'd', 'e', 'f', '{}'])
    expect(replay[0]?.id).toBe(seen[2]?.id)
  })

  it('accepts the cursor as the lastEventId query parameter', async () => {
    const driven = drivenProducer()
    const { url } = await setup(driven.producer)
    const first = await fetch(url('/chat'), { method: 'POST' })
    const location = first.headers.get('content-location') ?? ''
    driven.push('a', 'b')
    driven.finish()
    const all = await readSse(first).rest()
    const resumed = await fetch(url(`${location}?lastEventId=${all[0]?.id}`))
    expect((await readSse(resumed).rest()).map((e) => e.data)).toEqual(['b', '{}'])
  })

  it('replays the rest of a finished stream, then its done', async () => {
    const driven = drivenProducer()
    const { url } = await setup(driven.producer)
    const first = await fetch(url('/chat'), { method: 'POST' })
    driven.push('a', 'b', 'c')
    driven.finish()
    const all = await readSse(first).rest()
    const resumed = await fetch(url(first.headers.get('content-location') ?? ''), {
      headers: { 'Last-Event-ID': all[1]?.id ?? '' },
    })
    expect(await readSse(resumed).rest()).toEqual(all.slice(2))
  })

  it('ends with done when resumed after the last event of a finished stream', async () => {
    const driven = drivenProducer()
    const { url } = await setup(driven.producer)
    const first = await fetch(url('/chat'), { method: 'POST' })
    driven.finish()
    const all = await readSse(first).rest()
    const resumed = await fetch(url(first.headers.get('content-location') ?? ''), {
      headers: { 'Last-Event-ID': all.at(-1)?.id ?? '' },
    })
    expect((await readSse(resumed).rest()).map((e) => e.event)).toEqual(['done'])
  })

  it('answers 404 with error JSON for an unknown stream', async () => {
    const { url } = await setup()
    const response = await fetch(url(`/streams/${createStreamId()}`))
    expect(response.status).toBe(404)
    expect(await response.json()).toMatchObject({ code: 'unknown-stream', retryable: false })
  })

  it('answers 410 cursor-expired for a cursor trimmed off the log', async () => {
    const driven = drivenProducer()
    const { url } = await setup(driven.producer, { log: createMemoryEventLog({ maxEvents: 2 }) })
    const first = await fetch(url('/chat'), { method: 'POST' })
    driven.push('a', 'b', 'c', 'd', 'e')
    driven.finish()
    await readSse(first).rest()
    const response = await fetch(url(first.headers.get('content-location') ?? ''), {
      headers: { 'Last-Event-ID': '1' },
    })
    expect(response.status).toBe(410)
    expect(await response.json()).toEqual({
      code: 'cursor-expired',
      message: expect.any(String),
      retryable: false,
    })
  })

  it('counts the resume and the replayed events in the hub metrics', async () => {
    const driven = drivenProducer()
    const { url, hub } = await setup(driven.producer)
    const first = await fetch(url('/chat'), { method: 'POST' })
    driven.push('a', 'b', 'c')
    driven.finish()
    const all = await readSse(first).rest()
    const resumed = await fetch(url(first.headers.get('content-location') ?? ''), {
      headers: { 'Last-Event-ID': all[0]?.id ?? '' },
    })
    await readSse(resumed).rest()
    expect(hub.metrics()).toMatchObject({ resumes: 1, replayedEvents: 3 })
  })
})

describe('producer lifecycle', () => {
  it('keeps producing into the log when the connection drops', async () => {
    const driven = drivenProducer()
    const { url } = await setup(driven.producer)
    const first = await fetch(url('/chat'), { method: 'POST' })
    driven.push('a')
    const firstReader = readSse(first)
    await firstReader.take(1)
    await firstReader.cancel()
    driven.push('b', 'c')
    driven.finish()
    const again = await fetch(url(first.headers.get('content-location') ?? ''))
    expect((await readSse(again).rest()).map((e) => e.data)).toEqual(['a', 'b', 'c', '{}'])
    expect(driven.streams[0]?.signal.aborted).toBe(false)
  })

  it('cancels on DELETE: 204, the producer aborts and readers get done with reason cancelled', async () => {
    const driven = drivenProducer()
    const { url } = await setup(driven.producer)
    const first = await fetch(url('/chat'), { method: 'POST' })
    const location = first.headers.get('content-location') ?? ''
    const stream = await driven.started
    driven.push('a')
    const reader = readSse(first)
    await reader.take(1)
    const deleted = await fetch(url(location), { method: 'DELETE' })
    expect(deleted.status).toBe(204)
    expect(await reader.rest()).toEqual([
      { id: expect.any(String), event: 'done', data: '{"reason":"cancelled"}' },
    ])
    expect(stream.signal.reason).toBe('cancelled')
  })

  it('ends with an error event whose message is masked when the producer throws', async () => {
    const driven = drivenProducer()
    const onError = vi.fn()
    const { url } = await setup(driven.producer, { onError })
    const first = await fetch(url('/chat'), { method: 'POST' })
    driven.push('a')
    driven.fail(new Error('upstream key sk-secret rejected'))
    const events = await readSse(first).rest()
    expect(events.at(-1)?.event).toBe('error')
    const payload = JSON.parse(events.at(-1)?.data ?? '{}')
    expect(payload).toEqual({
      code: 'internal-error',
      message: expect.any(String),
      retryable: false,
    })
    expect(payload.message).not.toContain('sk-secret')
    expect(onError).toHaveBeenCalledWith(expect.any(Error), expect.any(String))
  })

  it('ends a running stream with a final producer-lost error on close', async () => {
    const driven = drivenProducer()
    const { url, streams, log } = await setup(driven.producer)
    const first = await fetch(url('/chat'), { method: 'POST' })
    const id = (first.headers.get('content-location') ?? '').split('/').pop() ?? ''
    await driven.started
    await streams.close()
    const events = []
    for await (const event of log.read(id)) events.push(event)
    expect(events.at(-1)?.event).toBe('error')
    expect(JSON.parse(events.at(-1)?.data ?? '{}')).toMatchObject({
      code: 'producer-lost',
      retryable: false,
    })
    await first.body?.cancel()
  })
})

// Timer-driven registry behaviour through `fetch` (no sockets), with only the clock faked.
describe('over time', () => {
  const ORIGIN = 'http://localhost'

  it('keeps a finished stream resumable for the log TTL, then answers 404', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] })
    onCleanup(async () => void vi.useRealTimers())
    const log = createMemoryEventLog({ ttlMs: 60_000 })
    const streams = createResumableStreams({ log, hub: createEventHub({ keepAliveMs: 0 }) })
    onCleanup(() => streams.close())
    const { id, url } = await streams.start(async (stream) => {
      await stream.send({ event: 'delta', data: 'a' })
    })
    for await (const _ of log.read(id)) {
      // Drains the log until the producer's done completes the stream.
    }
    vi.advanceTimersByTime(59_999)
    const kept = await streams.fetch(new Request(`${ORIGIN}${url}`))
    expect((await readSse(kept).rest()).map((e) => e.data)).toEqual(['a', '{}'])
    vi.advanceTimersByTime(1)
    const gone = await streams.fetch(new Request(`${ORIGIN}${url}`))
    expect(gone.status).toBe(404)
  })

  it('ends a connection with auth-expired while the stream stays resumable after a refresh', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] })
    onCleanup(async () => void vi.useRealTimers())
    let expiresAt = Date.now() + 10_000
    const hub = createEventHub({ keepAliveMs: 0, expiresAt: () => expiresAt, authLeadMs: 2000 })
    const streams = createResumableStreams({ hub })
    onCleanup(() => streams.close())
    const driven = drivenProducer()
    const first = await streams.fetch(
      new Request(`${ORIGIN}/streams`, { method: 'POST' }),
      driven.producer,
    )
    const location = first.headers.get('content-location') ?? ''
    driven.push('a')
    const reader = readSse(first)
    const [a] = await reader.take(1)
    vi.advanceTimersByTime(8000)
    const [expired] = await reader.rest()
    expect(expired?.event).toBe('auth-expired')
    expect(JSON.parse(expired?.data ?? '{}')).toMatchObject({ lastEventId: a?.id })
    // The dropped connection did not stop the producer; a refreshed credential resumes.
    driven.push('b')
    driven.finish()
    expiresAt += 60 * 60_000
    const resumed = await streams.fetch(
      new Request(`${ORIGIN}${location}`, { headers: { 'Last-Event-ID': a?.id ?? '' } }),
    )
    expect((await readSse(resumed).rest()).map((e) => e.data)).toEqual(['b', '{}'])
    expect(hub.metrics()).toMatchObject({ authExpiries: 1, resumes: 1 })
  })
})

describe('per-connection credential expiry', () => {
  // Each request carries a token; the registry learns its owner and its expiry from it.
  const tokens = new Map<string, { user: string; expiresAt: number | undefined }>()
  const token = (request: StreamRequest) => tokens.get(request.header('authorization') ?? '')
  const byToken: ResumableStreamsOptions = {
    principal: (request) => token(request)?.user,
    expiresAt: (request) => token(request)?.expiresAt,
  }
  const as = (name: string, init: RequestInit = {}): RequestInit => ({
    ...init,
    headers: { ...init.headers, authorization: name },
  })
  const oneDelta: Producer<unknown> = async (stream) => {
    await stream.send({ event: 'delta', data: 'x' })
  }
  // Inside the hub's default 5 s lead: auth-expired goes out as soon as the connection opens.
  const soon = () => Date.now() + 1000
  const later = () => Date.now() + 60 * 60_000

  it('ends a POST with auth-expired a lead before its token expires, and the stream stays resumable', async () => {
    const driven = drivenProducer()
    const { url } = await setup(driven.producer, byToken)
    tokens.set('old', { user: 'alice', expiresAt: Date.now() + 5000 + 100 })
    driven.push('a')
    const first = await fetch(url('/chat'), as('old', { method: 'POST' }))
    const cut = await readSse(first).rest()
    expect(cut.at(-1)?.event).toBe('auth-expired')
    const { lastEventId } = JSON.parse(cut.at(-1)?.data ?? '{}') as { lastEventId?: string }
    driven.push('b')
    driven.finish()
    tokens.set('new', { user: 'alice', expiresAt: later() })
    const resumed = await fetch(
      url(first.headers.get('content-location') ?? ''),
      as('new', { headers: lastEventId === undefined ? {} : { 'Last-Event-ID': lastEventId } }),
    )
    const rest = await readSse(resumed).rest()
    expect([...cut.slice(0, -1), ...rest].map((e) => e.data)).toEqual(['a', 'b', '{}'])
  })

  it("gives each connection its own principal's expiry", async () => {
    const seen: Array<string | undefined> = []
    const { url } = await setup(oneDelta, {
      ...byToken,
      expiresAt: (request, principal) => {
        seen.push(principal)
        return token(request)?.expiresAt
      },
    })
    tokens.set('alice', { user: 'alice', expiresAt: soon() })
    tokens.set('bob', { user: 'bob', expiresAt: later() })
    const alice = await readSse(await fetch(url('/chat'), as('alice', { method: 'POST' }))).rest()
    const bob = await readSse(await fetch(url('/chat'), as('bob', { method: 'POST' }))).rest()
    expect(alice.map((e) => e.event)).toEqual(['auth-expired'])
    expect(bob.map((e) => e.data)).toEqual(['x', '{}'])
    expect(seen).toEqual(['alice', 'bob'])
  })

  it('applies the expiry to a resume (GET)', async () => {
    const { url } = await setup(oneDelta, byToken)
    tokens.set('fresh', { user: 'alice', expiresAt: later() })
    tokens.set('stale', { user: 'alice', expiresAt: soon() })
    const first = await fetch(url('/chat'), as('fresh', { method: 'POST' }))
    await readSse(first).rest()
    const again = await fetch(url(first.headers.get('content-location') ?? ''), as('stale'))
    expect((await readSse(again).rest()).map((e) => e.event)).toEqual(['auth-expired'])
  })

  it("falls back to the hub's expiresAt when the hook resolves to undefined", async () => {
    const hub = createEventHub({ keepAliveMs: 0, expiresAt: soon() })
    const { url } = await setup(oneDelta, { ...byToken, hub })
    tokens.set('plain', { user: 'alice', expiresAt: undefined })
    const response = await fetch(url('/chat'), as('plain', { method: 'POST' }))
    expect((await readSse(response).rest()).map((e) => e.event)).toEqual(['auth-expired'])
  })

  it("overrides the hub's expiresAt with Infinity from the hook: never expires", async () => {
    const hub = createEventHub({ keepAliveMs: 0, expiresAt: soon() })
    const { url } = await setup(oneDelta, { ...byToken, hub })
    tokens.set('forever', { user: 'alice', expiresAt: Number.POSITIVE_INFINITY })
    const response = await fetch(url('/chat'), as('forever', { method: 'POST' }))
    expect((await readSse(response).rest()).map((e) => e.data)).toEqual(['x', '{}'])
  })

  it('never starts the producer when close() ran while the hook was pending', async () => {
    const driven = drivenProducer()
    let release: () => void = () => {}
    let asked: () => void = () => {}
    const hookCalled = new Promise<void>((resolve) => {
      asked = resolve
    })
    const { url, streams } = await setup(driven.producer, {
      expiresAt: async () => {
        asked()
        await new Promise<void>((resolve) => {
          release = resolve
        })
        return undefined
      },
    })
    const response = fetch(url('/chat'), { method: 'POST' })
    await hookCalled
    await streams.close()
    release()
    expect((await response).status).toBe(503)
    expect(driven.streams).toHaveLength(0)
  })

  it('answers 500 without starting the producer when the hook resolves to NaN, and reports it', async () => {
    const driven = drivenProducer()
    const errors: unknown[] = []
    const { url, streams } = await setup(driven.producer, {
      ...byToken,
      onError: (error) => errors.push(error),
    })
    tokens.set('broken', { user: 'alice', expiresAt: Number.NaN })
    const response = await fetch(url('/chat'), as('broken', { method: 'POST' }))
    expect(response.status).toBe(500)
    expect(await response.json()).toMatchObject({ code: 'internal-error', retryable: false })
    expect(driven.streams).toHaveLength(0)
    expect(streams.active).toBe(0)
    expect(errors).toEqual([expect.objectContaining({ message: expect.stringContaining('NaN') })])
  })
})

describe('retryMs', () => {
  it("sets the registry's retry: hint on POST and resume", async () => {
    const driven = drivenProducer()
    const { url } = await setup(driven.producer, { retryMs: 2500 })
    const response = await fetch(url('/chat'), { method: 'POST' })
    const reader = response.body?.pipeThrough(new TextDecoderStream()).getReader()
    const first = await reader?.read()
    expect(first?.value).toContain('retry: 2500\n')
    await reader?.cancel()
  })
})
