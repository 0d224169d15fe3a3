// The OpenAI-compatible endpoint over a real loopback socket, with the simulated model as the
// upstream: the wire format, resume in the same format, keepalives, truncation and errors.
import { parseSse, readSse } from '@unbroken/test-kit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { directFetch, startTestProxy, type TestProxy } from '../test-proxy'
import { composeAnswer, createRandom, seedOf, tokenize } from '../upstreams/simulated-text'
import { assembleChunks, postChat } from './openai-test-kit'

let proxy: TestProxy
beforeAll(async () => {
  proxy = await startTestProxy(['--keepalive', '50ms'])
})
afterAll(() => proxy.shutdown())

const messages = [{ role: 'user' as const, content: 'Explain resumable streams' }]
const answer = tokenize(composeAnswer(createRandom(seedOf({ messages, seed: 5 })), messages)).join(
  '',
)

describe('POST /v1/chat/completions, stream: true', () => {
  it('streams chunks with an id each, a usage chunk and [DONE], and a Content-Location', async () => {
    const response = await postChat(proxy, {
      model: 'simulated',
      messages,
      seed: 5,
      stream: true,
      stream_options: { include_usage: true },
    })
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/)
    const location = response.headers.get('content-location') as string
    expect(location).toMatch(/^\/v1\/streams\/[\w-]{22,}$/)
    const events = await readSse(response).rest()
    expect(new Set(events.map((event) => event.id)).size).toBe(events.length)
    expect(events.every((event) => event.id)).toBe(true)
    const first = JSON.parse(events[0]?.data as string)
    expect(first).toEqual({
      id: `chatcmpl-${location.split('/').pop()}`,
      object: 'chat.completion.chunk',
      created: expect.any(Number),
      model: 'simulated',
      choices: [
        {
          index: 0,
          delta: { role: 'assistant', content: '' },
          logprobs: null,
          finish_reason: null,
        },
      ],
      usage: null,
    })
    const usage = JSON.parse(events.at(-2)?.data as string)
    expect(usage.choices).toEqual([])
    expect(usage.usage).toEqual({
      prompt_tokens: expect.any(Number),
      completion_tokens: expect.any(Number),
      total_tokens: usage.usage.prompt_tokens + usage.usage.completion_tokens,
    })
    const outcome = assembleChunks(events)
    expect(outcome).toMatchObject({ text: answer, finishReason: 'stop', done: true })
  })

  it('opens with the cursor block, as every stream connection does (protocol A1)', async () => {
    // An SDK skips the id-only block; a client that resumes keeps it as its cursor.
    const wire = await (await postChat(proxy, { messages, stream: true })).text()
    expect(wire).toMatch(/^: ok\nretry: \d+\nid: 0\n\n/)
  })

  it('sends no usage chunk and no usage field without stream_options.include_usage', async () => {
    const events = await readSse(await postChat(proxy, { messages, stream: true })).rest()
    expect(events.filter((event) => event.data.includes('"usage"'))).toEqual([])
    expect(assembleChunks(events)).toMatchObject({ finishReason: 'stop', done: true })
  })

  it('resumes with GET Content-Location and Last-Event-ID in the same format, no gap or repeat', async () => {
    const response = await postChat(proxy, { messages, seed: 5, stream: true })
    const reader = readSse(response)
    const head = await reader.take(4)
    await reader.cancel()
    const resumed = await directFetch(`${proxy.url}${response.headers.get('content-location')}`, {
      headers: { 'last-event-id': head.at(-1)?.id as string },
    })
    expect(resumed.status).toBe(200)
    const rest = await readSse(resumed).rest()
    expect(rest[0]?.data).toMatch(/^\{"id":"chatcmpl-/)
    expect(assembleChunks([...head, ...rest])).toMatchObject({ text: answer, done: true })
  })

  it('keeps a slow prefill alive with comments, which chunk parsers skip', async () => {
    const response = await postChat(
      proxy,
      { messages, seed: 5, stream: true },
      { 'x-unbroken-fault': 'slow-start=600' },
    )
    const text = await response.text()
    // Between the role chunk (written at once) and the first answer chunk, the model was silent.
    const silence = text.slice(text.indexOf('data:'), text.indexOf('{"content":'))
    expect(silence.match(/^:/gm)?.length).toBeGreaterThan(1)
    expect(assembleChunks(parseSse(text))).toMatchObject({ text: answer, done: true })
  })

  it('ends a truncated upstream with an error chunk, never [DONE]', async () => {
    const response = await postChat(
      proxy,
      { messages, stream: true },
      { 'x-unbroken-fault': 'cut-after=5' },
    )
    const events = await readSse(response).rest()
    const outcome = assembleChunks(events)
    expect(outcome.text.length).toBeGreaterThan(0)
    expect(outcome.done).toBe(false)
    expect(outcome.error).toEqual({
      message: expect.stringMatching(/incomplete/),
      type: 'server_error',
      param: null,
      code: 'upstream-truncated',
    })
    expect(events.at(-1)?.event).toBe('error')
  })

  it('streams a tool call as one complete chunk, then finish_reason tool_calls', async () => {
    const tools = [
      {
        type: 'function',
        function: {
          name: 'get_weather',
          parameters: { type: 'object', properties: { city: { type: 'string' } } },
        },
      },
    ]
    const body = { messages: [{ role: 'user', content: 'Use get_weather for Oslo' }], tools }
    const events = await readSse(await postChat(proxy, { ...body, stream: true })).rest()
    const outcome = assembleChunks(events)
    expect(outcome.toolCalls).toEqual([
      {
        id: expect.any(String),
        name: 'get_weather',
        arguments: expect.stringMatching(/^\{"city":/),
      },
    ])
    expect(JSON.parse(outcome.toolCalls[0]?.arguments as string)).toEqual({
      city: expect.any(String),
    })
    expect(outcome).toMatchObject({ finishReason: 'tool_calls', done: true })
  })
})

describe('POST /v1/chat/completions, stream: false', () => {
  it('answers one chat.completion with the whole text and usage', async () => {
    const response = await postChat(proxy, { messages, seed: 5 })
    expect(response.status).toBe(200)
    const completion = await response.json()
    expect(completion).toEqual({
      id: expect.stringMatching(/^chatcmpl-[\w-]{22,}$/),
      object: 'chat.completion',
      created: expect.any(Number),
      model: 'simulated',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: answer, refusal: null },
          logprobs: null,
          finish_reason: 'stop',
        },
      ],
      usage: {
        prompt_tokens: expect.any(Number),
        completion_tokens: expect.any(Number),
        total_tokens: completion.usage.prompt_tokens + completion.usage.completion_tokens,
      },
    })
  })

  it('answers a truncated generation with a 502 error body, not a short completion', async () => {
    const response = await postChat(proxy, { messages }, { 'x-unbroken-fault': 'cut-after=5' })
    expect(response.status).toBe(502)
    expect(await response.json()).toEqual({
      error: {
        message: expect.stringMatching(/incomplete/),
        type: 'server_error',
        param: null,
        code: 'upstream-truncated',
      },
    })
  })
})

describe('errors and models', () => {
  it.each([
    ['a body that is not JSON', '{"messages": [', /^The body is not JSON/],
    ['no messages', '{"model":"m"}', /^messages: /],
    ['n: 2', { messages, n: 2 }, /^n: only n: 1/],
    [
      'an image part',
      { messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'x' } }] }] },
      /only text content parts/,
    ],
  ])('refuses %s with 400 in OpenAI error shape', async (_, body, message) => {
    const response = await postChat(proxy, body)
    expect(response.status).toBe(400)
    expect(await response.json()).toEqual({
      error: {
        message: expect.stringMatching(message),
        type: 'invalid_request_error',
        param: null,
        code: 'invalid-request',
      },
    })
  })

  it('accepts and ignores fields it does not translate (top_p, user, penalties)', async () => {
    const response = await postChat(proxy, {
      messages,
      seed: 5,
      top_p: 0.5,
      user: 'u1',
      presence_penalty: 1,
      metadata: { a: 'b' },
    })
    expect(response.status).toBe(200)
    expect((await response.json()).choices[0].message.content).toBe(answer)
  })

  it('lists the model at GET /v1/models', async () => {
    const response = await directFetch(`${proxy.url}/v1/models`)
    expect(await response.json()).toEqual({
      object: 'list',
      data: [{ id: 'simulated', object: 'model', created: 0, owned_by: 'simulated' }],
    })
  })
})

describe('CORS, with --cors-origin', () => {
  let cross: TestProxy
  beforeAll(async () => {
    cross = await startTestProxy(['--cors-origin', 'https://app.example'])
  })
  afterAll(() => cross.shutdown())

  it('answers the preflight of the SDK, custom headers included', async () => {
    const response = await directFetch(`${cross.url}/v1/chat/completions`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://app.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type,x-stainless-os',
      },
    })
    expect(response.status).toBe(204)
    expect(response.headers.get('access-control-allow-origin')).toBe('https://app.example')
    expect(response.headers.get('access-control-allow-headers')).toMatch(/x-stainless-os/)
  })

  it('lets the page read Content-Location of a stream and the model list', async () => {
    const streamed = await postChat(
      cross,
      { messages, stream: true },
      { origin: 'https://app.example' },
    )
    expect(streamed.headers.get('access-control-allow-origin')).toBe('https://app.example')
    expect(streamed.headers.get('access-control-expose-headers')).toMatch(/Content-Location/i)
    await streamed.body?.cancel()
    const models = await directFetch(`${cross.url}/v1/models`, {
      headers: { origin: 'https://app.example' },
    })
    expect(models.headers.get('access-control-allow-origin')).toBe('https://app.example')
  })
})
