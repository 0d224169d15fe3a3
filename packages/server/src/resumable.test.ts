import { afterEach, describe, expect, it, vi } from 'vitest'
import { createEventHub } from './hub'
import type { EventLog } from './log'
import { createMemoryEventLog } from './memory-log'
import { createResumableStreams, createStreamId } from './resumable'
import type { Producer } from './resumable-producer'
import type { ResumableStreamsOptions } from './resumable-types'
import { drivenProducer, type Loopback, listen, readSse } from './test-resumable'

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function setup(producer?: Producer<unknown>, options: ResumableStreamsOptions = {}) {
  const log: EventLog = options.log ?? createMemoryEventLog()
  const hub = options.hub ?? createEventHub({ keepAliveMs: 0 })
  const streams = createResumableStreams({ ...options, log, hub })
  const server: Loopback = await listen(streams, producer)
  cleanups.push(async () => {
    await server.close()
    await streams.close()
    await hub.closeAll({ deadlineMs: 100 })
    await log.close()
  })
  return { streams, server, log, hub, url: (path: string) => `${server.origin}${path}` }
}

/** Waits until the log holds `n` events for the stream behind `location`. */
async function logged(log: EventLog, location: string, n: number) {
  const id = location.split('/').pop() ?? ''
  await vi.waitFor(async () => {
    let count = 0
    const controller = new AbortController()
    for await (const _ of log.read(id, { signal: controller.signal })) {
      count += 1
      if (count >= n) controller.abort()
    }
    expect(count).toBeGreaterThanOrEqual(n)
  })
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
    expect(refused.headers.get('retry-after')).toBe('2')
    expect(await refused.json()).toEqual({
      code: 'stream-limit',
      message: expect.any(String),
      retryable: true,
      retryAfterMs: 2000,
    })
    expect(streams.active).toBe(1)
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

  it('ends a running stream with a non-retryable shutting-down error on close', async () => {
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
      code: 'shutting-down',
      retryable: false,
    })
    await first.body?.cancel()
  })
})

describe('authorization', () => {
  const asUser: ResumableStreamsOptions = { principal: (request) => request.header('x-user') }

  it('answers 403 to another principal and 401 to an anonymous one', async () => {
    const driven = drivenProducer()
    const { url } = await setup(driven.producer, asUser)
    const first = await fetch(url('/chat'), { method: 'POST', headers: { 'x-user': 'alice' } })
    const location = url(first.headers.get('content-location') ?? '')
    expect((await fetch(location, { headers: { 'x-user': 'bob' } })).status).toBe(403)
    expect((await fetch(location)).status).toBe(401)
    expect((await fetch(location, { method: 'DELETE', headers: { 'x-user': 'bob' } })).status).toBe(
      403,
    )
    expect(driven.streams[0]?.signal.aborted).toBe(false)
    await first.body?.cancel()
  })

  it('lets the creator resume its own stream', async () => {
    const driven = drivenProducer()
    const { url } = await setup(driven.producer, asUser)
    const first = await fetch(url('/chat'), { method: 'POST', headers: { 'x-user': 'alice' } })
    driven.push('a')
    driven.finish()
    await readSse(first).rest()
    const again = await fetch(url(first.headers.get('content-location') ?? ''), {
      headers: { 'x-user': 'alice' },
    })
    expect(again.status).toBe(200)
    expect((await readSse(again).rest()).map((e) => e.data)).toEqual(['a', '{}'])
  })

  it('answers 401 to a POST that authorize refuses for an anonymous caller', async () => {
    const { url } = await setup(drivenProducer().producer, {
      ...asUser,
      authorize: ({ principal }) => principal !== undefined,
    })
    expect((await fetch(url('/chat'), { method: 'POST' })).status).toBe(401)
  })
})

describe('CORS and ids', () => {
  it('answers a preflight allowing Last-Event-ID and exposes Content-Location', async () => {
    const driven = drivenProducer()
    const { url } = await setup(driven.producer, { allowOrigin: 'https://app.example' })
    const preflight = await fetch(url('/streams/x'), { method: 'OPTIONS' })
    expect(preflight.status).toBe(204)
    expect(preflight.headers.get('access-control-allow-headers')).toContain('Last-Event-ID')
    const response = await fetch(url('/chat'), { method: 'POST' })
    expect(response.headers.get('access-control-allow-origin')).toBe('https://app.example')
    expect(response.headers.get('access-control-expose-headers')).toContain('Content-Location')
    await response.body?.cancel()
  })

  it('makes 128-bit base64url stream ids', () => {
    const ids = Array.from({ length: 200 }, createStreamId)
    expect(new Set(ids).size).toBe(200)
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/)
  })
})

describe('fetch (Request → Response)', () => {
  it('starts with POST and resumes with GET through Web Request/Response', async () => {
    const log = createMemoryEventLog()
    const streams = createResumableStreams({ log, hub: createEventHub({ keepAliveMs: 0 }) })
    cleanups.push(() => streams.close())
    const driven = drivenProducer()
    const response = await streams.fetch(
      new Request('http://app.test/chat', { method: 'POST' }),
      driven.producer,
    )
    const location = response.headers.get('content-location') ?? ''
    driven.push('a', 'b')
    driven.finish()
    const all = await readSse(response).rest()
    expect(all.map((e) => e.data)).toEqual(['a', 'b', '{}'])
    const resumed = await streams.fetch(
      new Request(`http://app.test${location}`, { headers: { 'Last-Event-ID': all[0]?.id ?? '' } }),
    )
    expect((await readSse(resumed).rest()).map((e) => e.data)).toEqual(['b', '{}'])
  })
})

describe('attaching to streams in the log', () => {
  it('opens a live stream with nothing to replay at once', async () => {
    const { url, streams } = await setup()
    const driven = drivenProducer()
    const started = await streams.start(driven.producer)
    const response = await fetch(url(started.url))
    expect(response.status).toBe(200)
    driven.push('a')
    const reader = readSse(response)
    expect((await reader.take(1))[0]?.data).toBe('a')
    await reader.cancel()
  })

  it('opens at once when resumed from the last id of a live stream', async () => {
    const { url, streams } = await setup()
    const driven = drivenProducer()
    const started = await streams.start(driven.producer)
    const stream = await driven.started
    const last = await stream.send({ data: 'a' })
    const response = await fetch(url(started.url), { headers: { 'Last-Event-ID': last } })
    expect(response.status).toBe(200)
    driven.push('b')
    const reader = readSse(response)
    expect((await reader.take(1))[0]?.data).toBe('b')
    await reader.cancel()
  })

  it('ends with producer-lost when the log completes a stream without a terminal event', async () => {
    const log = createMemoryEventLog()
    const { url } = await setup(undefined, { log })
    const id = createStreamId()
    await log.create(id)
    await log.append(id, { event: 'delta', data: 'a' })
    await log.complete(id)
    const events = await readSse(await fetch(url(`/streams/${id}`))).rest()
    expect(events[0]?.data).toBe('a')
    expect(events[1]?.event).toBe('error')
    expect(JSON.parse(events[1]?.data ?? '{}')).toMatchObject({
      code: 'producer-lost',
      retryable: false,
    })
  })
})

describe('failures', () => {
  class ForeignLogError extends Error {
    readonly code = 'log-unavailable'
  }

  it('answers 503 with Retry-After when the log rejects with its own error class', async () => {
    const inner = createMemoryEventLog()
    const log: EventLog = {
      ...inner,
      info: () => Promise.reject(new ForeignLogError('Redis is down.')),
    }
    const { url } = await setup(undefined, { log })
    const response = await fetch(url(`/streams/${createStreamId()}`))
    expect(response.status).toBe(503)
    expect(response.headers.get('retry-after')).toBe('1')
    expect(await response.json()).toMatchObject({ code: 'log-unavailable', retryable: true })
  })

  it('ends a connection with a retryable error when the log fails mid-tail', async () => {
    const inner = createMemoryEventLog()
    const log: EventLog = {
      ...inner,
      async *read(streamId, readOptions) {
        for await (const event of inner.read(streamId, readOptions)) {
          yield event
          throw new ForeignLogError('Redis connection lost.')
        }
      },
    }
    const driven = drivenProducer()
    const { url } = await setup(driven.producer, { log })
    const response = await fetch(url('/chat'), { method: 'POST' })
    driven.push('a')
    const events = await readSse(response).rest()
    expect(events.map((e) => e.event)).toEqual(['delta', 'error'])
    expect(JSON.parse(events[1]?.data ?? '{}')).toMatchObject({
      code: 'log-unavailable',
      retryable: true,
    })
  })

  it('answers 500 with a masked message when the principal hook throws', async () => {
    const onError = vi.fn()
    const { url } = await setup(drivenProducer().producer, {
      onError,
      principal: () => {
        throw new Error('jwt secret mismatch')
      },
    })
    const response = await fetch(url('/chat'), { method: 'POST' })
    expect(response.status).toBe(500)
    const body = await response.json()
    expect(body).toMatchObject({ code: 'internal-error', retryable: false })
    expect(body.message).not.toContain('jwt')
    expect(onError).toHaveBeenCalledOnce()
  })
})
