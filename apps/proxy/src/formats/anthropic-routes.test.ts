// `POST /v1/messages` and `/v1/messages/count_tokens` on the wire, over real loopback, with the
// simulated model: what an SDK reads byte by byte, and what our additions (ids, resume) leave intact.
import { readSse, type SseEvent } from '@unbroken/test-kit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { directFetch, startTestProxy, type TestProxy } from '../test-proxy'

let proxy: TestProxy
beforeAll(async () => {
  proxy = await startTestProxy()
})
afterAll(() => proxy.shutdown())

const request = (content: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    model: 'claude-haiku-4-5',
    max_tokens: 1024,
    messages: [{ role: 'user', content }],
    ...extra,
  })

function postMessages(
  body: string,
  headers: Record<string, string> = {},
  path = '/v1/messages',
  to = proxy,
) {
  return directFetch(`${to.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', ...headers },
    body,
  })
}

/** The answer text of Messages events: every text_delta, in order. */
const textOf = (events: readonly SseEvent[]) =>
  events
    .filter((event) => event.event === 'content_block_delta')
    .map((event) => JSON.parse(event.data).delta)
    .filter((delta) => delta.type === 'text_delta')
    .map((delta) => delta.text)
    .join('')

const names = (events: readonly SseEvent[]) => events.map((event) => event.event)

describe('POST /v1/messages, stream: true', () => {
  it('streams Messages events, each with an id, from message_start to message_stop', async () => {
    const response = await postMessages(request('Explain resumable streams', { stream: true }))
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/)
    const events = await readSse(response).rest()
    expect(names(events).slice(0, 4)).toEqual([
      'message_start',
      'ping',
      'content_block_start',
      'content_block_delta',
    ])
    // The terminal `done` (data: a ping) follows message_stop; the SDKs skip it.
    expect(names(events).slice(-4)).toEqual([
      'content_block_stop',
      'message_delta',
      'message_stop',
      'done',
    ])
    expect(events.every((event) => event.id !== undefined)).toBe(true)
    expect(new Set(events.map((event) => event.id)).size).toBe(events.length)
    for (const event of events.slice(0, -1)) {
      expect(JSON.parse(event.data).type).toBe(event.event)
    }
    expect(textOf(events).length).toBeGreaterThan(20)
  })

  it('says where the stream lives, and a GET with Last-Event-ID resumes it in the same format', async () => {
    const response = await postMessages(request('Resume me', { stream: true }))
    const location = response.headers.get('content-location') as string
    expect(location).toMatch(/^\/v1\/streams\/[\w-]{22,}$/)
    const events = await readSse(response).rest()
    const cut = 5
    const resumed = await directFetch(`${proxy.url}${location}`, {
      headers: { 'last-event-id': events[cut - 1]?.id as string },
    })
    expect(await readSse(resumed).rest()).toEqual(events.slice(cut))
  })

  it('sends ping events while the upstream is silent (a prefill)', async () => {
    const pinging = await startTestProxy(['--keepalive', '50ms'])
    const response = await postMessages(
      request('Slow', { stream: true }),
      { 'x-unbroken-fault': 'slow-start=400' },
      '/v1/messages',
      pinging,
    )
    const events = await readSse(response).rest()
    await pinging.shutdown()
    const firstBlock = names(events).indexOf('content_block_start')
    // One ping follows message_start, as the API sends it; the rest are the silence's.
    expect(
      names(events.slice(2, firstBlock)).filter((name) => name === 'ping').length,
    ).toBeGreaterThan(1)
  })

  it('ends a truncated upstream with event: error overloaded_error, never message_stop', async () => {
    const response = await postMessages(request('Cut', { stream: true }), {
      'x-unbroken-fault': 'cut-after=3',
    })
    const events = await readSse(response).rest()
    expect(names(events)).not.toContain('message_stop')
    expect(names(events)).not.toContain('message_delta')
    expect(events.at(-1)?.event).toBe('error')
    expect(JSON.parse(events.at(-1)?.data as string)).toMatchObject({
      type: 'error',
      error: { type: 'overloaded_error', message: expect.stringMatching(/end marker/) },
    })
  })

  it('ends an upstream error mid-stream with event: error, never message_stop', async () => {
    const response = await postMessages(request('Fail', { stream: true }), {
      'x-unbroken-fault': 'error-after=2',
    })
    const events = await readSse(response).rest()
    expect(names(events)).not.toContain('message_stop')
    expect(JSON.parse(events.at(-1)?.data as string).error.type).toBe('overloaded_error')
  })
})

describe('POST /v1/messages, not streamed', () => {
  it('answers one Message with the same text the stream carries', async () => {
    const streamed = textOf(
      await readSse(await postMessages(request('Same answer', { stream: true }))).rest(),
    )
    const response = await postMessages(request('Same answer'))
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({
      id: expect.stringMatching(/^msg_[\w-]{22,}$/),
      type: 'message',
      role: 'assistant',
      model: 'claude-haiku-4-5',
      content: [{ type: 'text', text: streamed }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: {
        input_tokens: expect.any(Number),
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
        output_tokens: expect.any(Number),
      },
    })
  })

  it('answers a truncated upstream with 529 overloaded_error, which the SDKs retry', async () => {
    const response = await postMessages(request('Cut'), { 'x-unbroken-fault': 'cut-after=3' })
    expect(response.status).toBe(529)
    expect(response.headers.get('x-should-retry')).toBe('true')
    expect(await response.json()).toMatchObject({
      type: 'error',
      error: { type: 'overloaded_error' },
    })
  })
})

describe('errors and count_tokens', () => {
  it.each([
    [
      'a body that is not JSON',
      '{"model": ',
      400,
      'invalid_request_error',
      /^The body is not JSON/,
    ],
    [
      'no max_tokens',
      JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'x' }] }),
      400,
      'invalid_request_error',
      /^max_tokens: /,
    ],
    [
      'a body over 8 MiB',
      request('x'.repeat(9 * 1024 * 1024)),
      413,
      'request_too_large',
      /larger than/,
    ],
  ])('refuses %s in the API error shape', async (_, body, status, type, message) => {
    const response = await postMessages(body)
    expect(response.status).toBe(status)
    expect(response.headers.get('x-should-retry')).toBe('false')
    expect(await response.json()).toEqual({
      type: 'error',
      error: { type, message: expect.stringMatching(message) },
    })
  })

  it('refuses an unknown fault before starting anything, in the API error shape', async () => {
    const response = await postMessages(request('x', { stream: true }), {
      'x-unbroken-fault': 'explode-after=3',
    })
    expect(response.status).toBe(400)
    expect((await response.json()).error.type).toBe('invalid_request_error')
  })

  it('answers count_tokens with an estimate of the prompt', async () => {
    const response = await postMessages(
      JSON.stringify({
        model: 'm',
        messages: [{ role: 'user', content: 'Hello there, how are you?' }],
      }),
      {},
      '/v1/messages/count_tokens',
    )
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ input_tokens: 11 })
  })
})

describe('with --token-secret', () => {
  let secured: TestProxy
  beforeAll(async () => {
    secured = await startTestProxy(['--token-secret', 'a-secret-of-at-least-32-characters!!'])
  })
  afterAll(() => secured.shutdown())

  it('refuses a request without a token with 401 authentication_error', async () => {
    const response = await postMessages(
      request('Hi', { stream: true }),
      {},
      '/v1/messages',
      secured,
    )
    expect(response.status).toBe(401)
    expect((await response.json()).error.type).toBe('authentication_error')
  })

  it('streams to a bearer token, as the SDK sends its authToken', async () => {
    const minted = await directFetch(`${secured.url}/v1/auth/token`, { method: 'POST' })
    const { token } = await minted.json()
    const response = await postMessages(
      request('Hi', { stream: true }),
      { authorization: `Bearer ${token}` },
      '/v1/messages',
      secured,
    )
    expect(response.status).toBe(200)
    expect(names(await readSse(response).rest())).toContain('message_stop')
  })
})

describe('with --cors-origin', () => {
  const origin = 'https://app.example.com'
  let open: TestProxy
  beforeAll(async () => {
    open = await startTestProxy(['--cors-origin', origin])
  })
  afterAll(() => open.shutdown())

  it('answers the preflight of the SDK in a browser, allowing its headers', async () => {
    const response = await directFetch(`${open.url}/v1/messages`, {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers':
          'anthropic-version,anthropic-dangerous-direct-browser-access,content-type,x-api-key',
      },
    })
    expect(response.status).toBe(204)
    expect(response.headers.get('access-control-allow-origin')).toBe(origin)
    expect(response.headers.get('access-control-allow-headers')).toContain('anthropic-version')
  })

  it('lets a browser read a JSON answer (count_tokens)', async () => {
    const response = await postMessages(
      JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'Hi' }] }),
      { origin },
      '/v1/messages/count_tokens',
      open,
    )
    expect(response.headers.get('access-control-allow-origin')).toBe(origin)
    expect(await response.json()).toEqual({ input_tokens: expect.any(Number) })
  })
})
