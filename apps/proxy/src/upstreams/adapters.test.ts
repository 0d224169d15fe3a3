// The adapters' table test: each documented upstream answer in, normalised events out, however
// the network cuts the body (whole, every byte apart, inside `data:`, inside a UTF-8 character).
import { setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { ProxyError } from '../errors'
import { mergeOutput, type OutputEvent } from '../formats/format'
import { generate } from '../generation'
import type { GenerationRequest } from '../request'
import { createAnthropicUpstream } from './anthropic'
import { anthropicFixtures } from './fixtures/anthropic'
import { MOCK_BASE_URLS, type UpstreamFixture } from './fixtures/fixture'
import { type Chunking, fixtureHandler } from './fixtures/mock'
import { ollamaFixtures } from './fixtures/ollama'
import { openaiFixtures } from './fixtures/openai'
import { createOllamaUpstream } from './ollama'
import { createOpenAIUpstream } from './openai'
import type { Upstream } from './upstream'

const server = setupServer()
// Unmatched requests go to the network: the unreachable-upstream test needs a real refused socket.
beforeAll(() => server.listen({ onUnhandledRequest: 'bypass' }))
afterEach(() => server.resetHandlers())
afterAll(() => server.close())

const upstreams: Record<UpstreamFixture['kind'], Upstream> = {
  openai: createOpenAIUpstream({
    baseUrl: MOCK_BASE_URLS.openai,
    apiKey: 'sk-test',
    defaultModel: 'gpt-4o-mini',
  }),
  anthropic: createAnthropicUpstream({
    baseUrl: MOCK_BASE_URLS.anthropic,
    apiKey: 'sk-ant-test',
    defaultModel: 'claude-haiku-4-5',
  }),
  ollama: createOllamaUpstream({ baseUrl: MOCK_BASE_URLS.ollama, defaultModel: 'llama3.2' }),
}

const LIMITS = { idleTimeoutMs: 10_000, maxDurationMs: 60_000 }

const request: GenerationRequest = {
  model: 'test-model',
  messages: [{ role: 'user', content: 'What is the weather in Zürich?' }],
}

/**
 * Runs an adapter to its classified end, as the proxy does (`generate` decides what a missing end
 * marker means); events merged the way the proxy merges them before writing.
 */
async function run(upstream: Upstream, input = request) {
  const events: OutputEvent[] = []
  let error: unknown
  const call = { signal: new AbortController().signal }
  try {
    for await (const chunk of generate(upstream, input, call, LIMITS)) {
      for (const event of chunk) mergeOutput(events, event)
    }
  } catch (caught) {
    error = caught
  }
  return { events, error }
}

const NON_ASCII = /[^\p{ASCII}]/u

/** Byte offsets inside the first field name and inside the first multi-byte character. */
function trickyCuts(body: string): Chunking {
  const bytes = new TextEncoder().encode(body)
  const field = body.search(/data:|event:|"content"/)
  const prefix = body.slice(0, body.search(NON_ASCII))
  const insideChar = new TextEncoder().encode(prefix).length + 1
  return { at: [field + 2, insideChar].filter((at) => at > 0 && at < bytes.length) }
}

const fixtures = [...openaiFixtures, ...anthropicFixtures, ...ollamaFixtures]

// A loop, not describe.each: its `$name` titles are cut at 40 characters, which `-t` cannot match.
for (const fixture of fixtures) {
  describe(`${fixture.kind}: ${fixture.name}`, () => {
    const chunkings: Array<[string, Chunking]> = [
      ['whole', 'whole'],
      ['one byte per chunk', { size: 1 }],
      ['cut inside a field name and inside a character', trickyCuts(fixture.body)],
    ]
    it.each(chunkings)('yields the documented events (%s)', async (_, chunking) => {
      server.use(fixtureHandler(fixture, { chunking }))
      const { events, error } = await run(upstreams[fixture.kind])
      expect(events).toEqual(fixture.expected.events)
      if ('error' in fixture.expected) {
        expect(error).toBeInstanceOf(ProxyError)
        const { code, retryable, retryAfterMs } = error as ProxyError
        expect({ code, retryable, retryAfterMs }).toEqual({
          retryAfterMs: undefined,
          ...fixture.expected.error,
        })
      } else {
        expect(error).toBeUndefined()
      }
    })
  })
}

it('cuts the text fixtures inside a multi-byte character', () => {
  // Guards the table above: if a fixture lost its multi-byte text, the cut would land elsewhere.
  for (const fixture of fixtures.filter((f) => NON_ASCII.test(f.body))) {
    const { at } = trickyCuts(fixture.body) as { at: number[] }
    const bytes = new TextEncoder().encode(fixture.body)
    const continuation = at.some((offset) => ((bytes[offset] as number) & 0xc0) === 0x80)
    expect(continuation, fixture.name).toBe(true)
  }
})

describe('requests', () => {
  const withTools: GenerationRequest = {
    ...request,
    messages: [
      { role: 'system', content: 'Be brief.' },
      ...request.messages,
      {
        role: 'assistant',
        content: '',
        toolCalls: [{ id: 'call_1', name: 'get_weather', arguments: '{"city":"Zürich"}' }],
        reasoning: [{ type: 'thinking', thinking: 'Call it.', signature: 'EqQB' }],
      },
      { role: 'tool', toolCallId: 'call_1', content: '21 °C' },
    ],
    tools: [{ name: 'get_weather', parameters: { type: 'object', properties: { city: {} } } }],
    maxTokens: 100,
  }

  const capture = async (fixture: UpstreamFixture) => {
    let seen: Request | undefined
    server.use(fixtureHandler(fixture, { onRequest: (r) => (seen = r.clone()) }))
    await run(upstreams[fixture.kind], withTools)
    const sent = seen as Request
    return { headers: sent.headers, body: await sent.json() }
  }

  it('asks an OpenAI-compatible server for usage, with tools and tool results in its shape', async () => {
    const { headers, body } = await capture(openaiFixtures[0] as UpstreamFixture)
    expect(headers.get('authorization')).toBe('Bearer sk-test')
    expect(body).toMatchObject({
      model: 'test-model',
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: 100,
      tools: [{ type: 'function', function: { name: 'get_weather' } }],
    })
    expect(body.messages.slice(2)).toEqual([
      {
        role: 'assistant',
        content: '',
        tool_calls: [
          {
            id: 'call_1',
            type: 'function',
            function: { name: 'get_weather', arguments: '{"city":"Zürich"}' },
          },
        ],
      },
      { role: 'tool', tool_call_id: 'call_1', content: '21 °C' },
    ])
  })

  it('sends Anthropic the system prompt apart, signed thinking first, and tool results as a user turn', async () => {
    const { headers, body } = await capture(anthropicFixtures[0] as UpstreamFixture)
    expect(headers.get('x-api-key')).toBe('sk-ant-test')
    expect(headers.get('anthropic-version')).toBe('2023-06-01')
    expect(body).toMatchObject({ system: 'Be brief.', max_tokens: 100, stream: true })
    expect(body.tools).toEqual([
      { name: 'get_weather', input_schema: { type: 'object', properties: { city: {} } } },
    ])
    expect(body.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'What is the weather in Zürich?' }] },
      {
        role: 'assistant',
        content: [
          { type: 'thinking', thinking: 'Call it.', signature: 'EqQB' },
          { type: 'tool_use', id: 'call_1', name: 'get_weather', input: { city: 'Zürich' } },
        ],
      },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'call_1', content: '21 °C' }] },
    ])
  })

  it('sends Ollama tool arguments as objects and limits under options', async () => {
    const { body } = await capture(ollamaFixtures[0] as UpstreamFixture)
    expect(body).toMatchObject({ model: 'test-model', stream: true, options: { num_predict: 100 } })
    expect(body.messages[2]).toEqual({
      role: 'assistant',
      content: '',
      tool_calls: [{ function: { name: 'get_weather', arguments: { city: 'Zürich' } } }],
    })
  })
})

it('reports an unreachable upstream as upstream-unavailable', async () => {
  const upstream = createOpenAIUpstream({ baseUrl: 'http://127.0.0.1:9/v1', defaultModel: 'm' })
  const { events, error } = await run(upstream)
  expect(events).toEqual([])
  expect(error).toMatchObject({ code: 'upstream-unavailable', retryable: true })
})
