import { readSse } from '@unbroken/test-kit'
import { describe, expect, it, vi } from 'vitest'
import { createEventHub } from './hub'
import type { EventLog } from './log'
import { createMemoryEventLog } from './memory-log'
import { createResumableStreams, createStreamId } from './resumable'
import type { ResumableStreamsOptions } from './resumable-types'
import { cleanUpAfterEach, drivenProducer, onCleanup, setup } from './test-resumable'

cleanUpAfterEach()

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

  it('allows the headers of agreement A5 plus allowHeaders, and exposes the replay boundary', async () => {
    const { url } = await setup(drivenProducer().producer, {
      allowOrigin: '*',
      allowHeaders: ['X-Request-Id'],
    })
    const preflight = await fetch(url('/streams'), { method: 'OPTIONS' })
    expect(preflight.headers.get('access-control-allow-headers')).toBe(
      'Last-Event-ID, Idempotency-Key, Content-Type, Authorization, X-Request-Id',
    )
    expect(preflight.headers.get('access-control-expose-headers')).toBe(
      'Content-Location, Retry-After, Unbroken-Replay-Through',
    )
  })

  it('makes 128-bit base64url stream ids', () => {
    const ids = Array.from({ length: 200 }, createStreamId)
    expect(new Set(ids).size).toBe(200)
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/)
  })

  it('draws every one of the 128 id bits at random', () => {
    // Each bit is seen both set and clear across 200 ids: a fixed or missing byte would show, and a
    // random bit stays constant in 200 draws with probability 2^-199.
    const seen = { set: new Uint8Array(16), clear: new Uint8Array(16) }
    for (let i = 0; i < 200; i++) {
      const bytes = Buffer.from(createStreamId(), 'base64url')
      expect(bytes).toHaveLength(16)
      bytes.forEach((byte, at) => {
        seen.set[at] = (seen.set[at] ?? 0) | byte
        seen.clear[at] = (seen.clear[at] ?? 0) | ~byte
      })
    }
    expect([...seen.set]).toEqual(Array(16).fill(255))
    expect([...seen.clear]).toEqual(Array(16).fill(255))
  })
})

describe('fetch (Request → Response)', () => {
  it('starts with POST and resumes with GET through Web Request/Response', async () => {
    const log = createMemoryEventLog()
    const streams = createResumableStreams({ log, hub: createEventHub({ keepAliveMs: 0 }) })
    onCleanup(() => streams.close())
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
  // Another copy of this package, as a bundled or duplicated `@unbroken/redis` would bring along:
  // its errors are not `instanceof` ours, yet they are the same contract.
  const foreign = async (message: string, retryable?: boolean) => {
    vi.resetModules()
    const copy = await import('./errors')
    return new copy.UnbrokenServerError('log-unavailable', message, { retryable })
  }

  it('answers 503 with Retry-After when the log rejects with the error class of another copy', async () => {
    const error = await foreign('The event log is unavailable; try again.')
    const inner = createMemoryEventLog()
    const log: EventLog = { ...inner, info: () => Promise.reject(error) }
    const { url } = await setup(undefined, { log })
    const response = await fetch(url(`/streams/${createStreamId()}`))
    expect(response.status).toBe(503)
    expect(['1', '2']).toContain(response.headers.get('retry-after'))
    expect(await response.json()).toMatchObject({ code: 'log-unavailable', retryable: true })
  })

  it("answers with the log error's own retryable: false", async () => {
    const error = await foreign('Gone for good.', false)
    const inner = createMemoryEventLog()
    const log: EventLog = { ...inner, info: () => Promise.reject(error) }
    const { url } = await setup(undefined, { log })
    const response = await fetch(url(`/streams/${createStreamId()}`))
    expect(await response.json()).toMatchObject({ code: 'log-unavailable', retryable: false })
  })

  it('answers 500 masked, and reports it, when a log rejects with an error of its own making', async () => {
    const onError = vi.fn()
    const bug = Object.assign(new Error('ECONNREFUSED 10.0.0.7:6379'), { code: 'log-unavailable' })
    const inner = createMemoryEventLog()
    const log: EventLog = { ...inner, info: () => Promise.reject(bug) }
    const { url } = await setup(undefined, { log, onError })
    const id = createStreamId()
    const response = await fetch(url(`/streams/${id}`))
    expect(response.status).toBe(500)
    expect(JSON.stringify(await response.json())).not.toContain('10.0.0.7')
    expect(onError).toHaveBeenCalledWith(bug, id)
  })

  it('ends a connection with a retryable error when the log fails mid-tail', async () => {
    const error = await foreign('The event log stopped answering; resume in a moment.')
    const inner = createMemoryEventLog()
    const log: EventLog = {
      ...inner,
      async *read(streamId, readOptions) {
        for await (const event of inner.read(streamId, readOptions)) {
          yield event
          throw error
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

  it("keeps a log error's own retryable: false (a stream that failed for good)", async () => {
    const error = await foreign('This stream broke off; start a new stream.', false)
    const inner = createMemoryEventLog()
    const log: EventLog = {
      ...inner,
      async *read(streamId, readOptions) {
        for await (const event of inner.read(streamId, readOptions)) {
          yield event
          throw error
        }
      },
    }
    const driven = drivenProducer()
    const { url } = await setup(driven.producer, { log })
    const response = await fetch(url('/chat'), { method: 'POST' })
    driven.push('a')
    const events = await readSse(response).rest()
    expect(JSON.parse(events[1]?.data ?? '{}')).toMatchObject({
      code: 'log-unavailable',
      retryable: false,
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

describe('several instances sharing one log', () => {
  it('resumes and cancels on another instance than the producer runs on', async () => {
    const log = createMemoryEventLog()
    const driven = drivenProducer()
    const a = await setup(driven.producer, { log })
    const b = await setup(undefined, { log })
    const first = await fetch(a.url('/chat'), { method: 'POST' })
    const location = first.headers.get('content-location') ?? ''
    driven.push('a')
    const seen = await readSse(first).take(1)
    const resumed = await fetch(b.url(location), {
      headers: { 'Last-Event-ID': seen[0]?.id ?? '' },
    })
    const reader = readSse(resumed)
    driven.push('b')
    expect((await reader.take(1))[0]?.data).toBe('b')
    expect((await fetch(b.url(location), { method: 'DELETE' })).status).toBe(204)
    expect(await reader.rest()).toEqual([
      { id: expect.any(String), event: 'done', data: '{"reason":"cancelled"}' },
    ])
    expect(driven.streams[0]?.signal.reason).toBe('cancelled')
  })
})
