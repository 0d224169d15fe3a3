// The native endpoint and the routes around it, over a real loopback socket, with the simulated
// model as the upstream.
import { createEventStream } from '@unbroken/client'
import { readSse } from '@unbroken/test-kit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { GenerationRequest } from './request'
import { chat, directFetch, postStream, startTestProxy, type TestProxy, textOf } from './test-proxy'
import { createSimulatedUpstream } from './upstreams/simulated'

let proxy: TestProxy
beforeAll(async () => {
  proxy = await startTestProxy()
})
afterAll(() => proxy.shutdown())

/** The text tokens the simulated model says to `request`, read straight from it. */
async function expectedTokens(request: GenerationRequest): Promise<string[]> {
  const upstream = createSimulatedUpstream({ ttftMs: 0, tokensPerSecond: 1e6 })
  const tokens: string[] = []
  for await (const chunk of upstream.stream(request, { signal: new AbortController().signal })) {
    for (const event of chunk) if (event.type === 'text') tokens.push(event.text)
  }
  return tokens
}

const userRequest = (content: string, seed?: number): GenerationRequest => ({
  model: 'simulated',
  messages: [{ role: 'user', content }],
  seed,
})

describe('POST /v1/streams', () => {
  it('streams meta, the answer as deltas, usage and done, with ids and a Content-Location', async () => {
    const response = await postStream(proxy, chat('Explain resumable streams', { seed: 11 }))
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/)
    const location = response.headers.get('content-location') as string
    expect(location).toMatch(/^\/v1\/streams\/[\w-]{22,}$/)
    const events = await readSse(response).rest()
    expect(events[0]?.event).toBe('meta')
    expect(JSON.parse(events[0]?.data as string)).toEqual({
      streamId: location.split('/').pop(),
      model: 'simulated',
      upstream: 'simulated',
    })
    expect(events.slice(-2).map((event) => event.event)).toEqual(['usage', 'done'])
    expect(JSON.parse(events.at(-1)?.data as string)).toEqual({ finishReason: 'stop' })
    expect(new Set(events.map((event) => event.id)).size).toBe(events.length)
    const tokens = await expectedTokens(userRequest('Explain resumable streams', 11))
    expect(textOf(events)).toBe(tokens.join(''))
  })

  it('writes at most one delta per upstream chunk', async () => {
    const response = await postStream(proxy, chat('Count the appends', { seed: 2 }))
    const location = response.headers.get('content-location') as string
    const events = await readSse(response).rest()
    const record = proxy.records().find((r) => location.endsWith(r.streamId as string))
    const deltas = events.filter((event) => event.event === 'delta').length
    expect(deltas).toBeGreaterThan(0)
    expect(deltas).toBeLessThanOrEqual(record?.chunks as number)
    // meta + deltas + usage + done, each one append: nothing else is written.
    expect(record?.appends).toBe(events.length)
  })

  it('streams reasoning deltas apart from text when asked', async () => {
    const events = await readSse(
      await postStream(proxy, chat('Think first', { reasoning: true })),
    ).rest()
    const deltas = events
      .filter((event) => event.event === 'delta')
      .map((event) => JSON.parse(event.data))
    expect(deltas[0]).toHaveProperty('reasoning')
    expect(deltas.at(-1)).toHaveProperty('text')
  })

  it('sends a complete tool call, then done with finishReason tool-calls', async () => {
    const tools = [
      {
        name: 'get_weather',
        parameters: { type: 'object', properties: { city: { type: 'string' } } },
      },
    ]
    const events = await readSse(
      await postStream(proxy, chat('Use get_weather for Oslo', { tools })),
    ).rest()
    const call = events.find((event) => event.event === 'tool-call')
    expect(JSON.parse(call?.data as string)).toEqual({
      id: expect.any(String),
      name: 'get_weather',
      arguments: expect.stringMatching(/^\{"city":".+"\}$/),
    })
    expect(JSON.parse(events.at(-1)?.data as string)).toEqual({ finishReason: 'tool-calls' })
  })

  it.each([
    ['a body that is not JSON', '{"messages": [', /^The body is not JSON/],
    ['no messages', '{}', /^messages: /],
    ['a bad role', '{"messages":[{"role":"robot","content":"x"}]}', /^messages\[0\]\.role: /],
    ['a misspelt field', chat('x', { max_tokens: 5 }), /Unrecognized key: "max_tokens"/],
    ['a negative maxTokens', chat('x', { maxTokens: -1 }), /^maxTokens: /],
  ])('refuses %s with 400 invalid-request naming the field', async (_, body, message) => {
    const response = await postStream(proxy, body)
    expect(response.status).toBe(400)
    expect(await response.json()).toEqual({
      code: 'invalid-request',
      message: expect.stringMatching(message),
      retryable: false,
    })
  })

  it('refuses a body over 8 MiB with 413 request-too-large', async () => {
    const response = await postStream(proxy, chat('x'.repeat(9 * 1024 * 1024)))
    expect(response.status).toBe(413)
    expect(await response.json()).toMatchObject({ code: 'request-too-large', retryable: false })
  })

  it('refuses an unknown fault with 400, before starting anything', async () => {
    const response = await postStream(proxy, chat('x'), { 'x-unbroken-fault': 'explode-after=3' })
    expect(response.status).toBe(400)
    expect((await response.json()).message).toMatch(/x-unbroken-fault: expected name=N/)
  })
})

describe('faults (x-unbroken-fault)', () => {
  it('cut-after: the stream ends with an upstream-truncated error, never done', async () => {
    const response = await postStream(proxy, chat('x'), { 'x-unbroken-fault': 'cut-after=5' })
    const location = response.headers.get('content-location') as string
    const events = await readSse(response).rest()
    expect(textOf(events)).toBe((await expectedTokens(userRequest('x'))).slice(0, 5).join(''))
    expect(events.some((event) => event.event === 'done')).toBe(false)
    expect(events.at(-1)?.event).toBe('error')
    expect(JSON.parse(events.at(-1)?.data as string)).toEqual({
      code: 'upstream-truncated',
      message: expect.stringMatching(/without its end marker/),
      // Final in the stream: a resume would only replay it (protocol v1 §6).
      retryable: false,
    })
    const record = proxy.records().find((r) => location.endsWith(r.streamId as string))
    expect(record).toMatchObject({
      status: 'incomplete',
      end: 'failed',
      usage: { estimated: true },
    })
  })

  it('error-after: the stream ends with the upstream error', async () => {
    const response = await postStream(proxy, chat('x'), { 'x-unbroken-fault': 'error-after=2' })
    const events = await readSse(response).rest()
    expect(textOf(events)).toBe((await expectedTokens(userRequest('x'))).slice(0, 2).join(''))
    expect(JSON.parse(events.at(-1)?.data as string)).toMatchObject({
      code: 'upstream-error',
      retryable: false,
    })
  })

  it('cut-after: a resume from the error gets the error again, never a done', async () => {
    const response = await postStream(proxy, chat('x'), { 'x-unbroken-fault': 'cut-after=3' })
    const events = await readSse(response).rest()
    const resumed = await directFetch(`${proxy.url}${response.headers.get('content-location')}`, {
      headers: { 'last-event-id': events.at(-1)?.id as string },
    })
    expect(await readSse(resumed).rest()).toEqual([events.at(-1)])
  })

  it('cut-after: the client reader fails with upstream-truncated at once, without reconnecting', async () => {
    const stream = createEventStream(`${proxy.url}/v1/streams`, {
      fetch: directFetch,
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-unbroken-fault': 'cut-after=3' },
      body: chat('x'),
    })
    await expect(async () => {
      for await (const _ of stream);
    }).rejects.toMatchObject({ code: 'server-error' })
    const { closeReason, reconnects, error } = stream.getSnapshot()
    expect({ closeReason, reconnects }).toEqual({ closeReason: 'error', reconnects: 0 })
    expect(error?.serverCode).toBe('upstream-truncated')
  })
})

describe('other routes', () => {
  it('answers /healthz and /readyz', async () => {
    expect(await (await directFetch(`${proxy.url}/healthz`)).json()).toEqual({ status: 'ok' })
    expect(await (await directFetch(`${proxy.url}/readyz`)).json()).toEqual({ status: 'ready' })
  })

  it('answers an unknown path with a JSON 404', async () => {
    const response = await directFetch(`${proxy.url}/v2/nothing`)
    expect(response.status).toBe(404)
    expect(await response.json()).toMatchObject({ code: 'not-found' })
  })

  it('answers an unknown stream with 404 unknown-stream', async () => {
    const response = await directFetch(`${proxy.url}/v1/streams/AAAAAAAAAAAAAAAAAAAAAA`)
    expect(response.status).toBe(404)
    expect(await response.json()).toMatchObject({ code: 'unknown-stream' })
  })

  it('says on /v1/auth/token that open mode has no tokens', async () => {
    const response = await directFetch(`${proxy.url}/v1/auth/token`, { method: 'POST' })
    expect(response.status).toBe(404)
    expect(await response.json()).toMatchObject({ code: 'auth-disabled' })
  })

  it('exports every listed metric on /metrics', async () => {
    await readSse(await postStream(proxy, chat('for the metrics'))).rest()
    const response = await directFetch(`${proxy.url}/metrics`)
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/)
    const text = await response.text()
    for (const name of [
      'active_streams',
      'active_connections',
      'time_to_first_token_seconds_bucket',
      'inter_token_gap_seconds_bucket',
      'tokens_total{direction="output",source="upstream"}',
      'resumes_total',
      'replayed_events_total',
      'upstream_errors_total{code="upstream-truncated"}',
      'drain_timeouts_total',
      'slow_client_disconnects_total',
      'stream_duration_seconds_bucket',
      'streams_total{status="complete",end="finished"}',
    ]) {
      expect(text).toContain(`unbroken_proxy_${name}`)
    }
  })
})

describe('CORS (--cors-origin)', () => {
  let cors: TestProxy
  const origin = 'https://app.example.com'
  beforeAll(async () => {
    cors = await startTestProxy(['--cors-origin', origin])
  })
  afterAll(() => cors.shutdown())

  it('answers the stream preflight, allowing Last-Event-ID and Idempotency-Key', async () => {
    const response = await directFetch(`${cors.url}/v1/streams`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST' },
    })
    expect(response.status).toBe(204)
    expect(response.headers.get('access-control-allow-origin')).toBe(origin)
    const allowed = response.headers.get('access-control-allow-headers')?.toLowerCase()
    expect(allowed).toContain('last-event-id')
    expect(allowed).toContain('idempotency-key')
  })

  it('exposes Content-Location on a stream, so a browser client can resume', async () => {
    const response = await postStream(cors, chat('hi', { maxTokens: 2 }), { origin })
    expect(response.headers.get('access-control-expose-headers')).toContain('Content-Location')
    await readSse(response).rest()
  })

  it('answers the token preflight, allowing Authorization', async () => {
    const response = await directFetch(`${cors.url}/v1/auth/token`, {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization',
      },
    })
    expect(response.headers.get('access-control-allow-origin')).toBe(origin)
    expect(response.headers.get('access-control-allow-headers')?.toLowerCase()).toContain(
      'authorization',
    )
  })
})
