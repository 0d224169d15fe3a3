// The endpoint × upstream table for `POST /v1/messages`: every recorded upstream answer (OpenAI-
// compatible, Anthropic, Ollama; msw serves them at the vendors' paths) and the simulated model,
// read by the real `@anthropic-ai/sdk`, streamed (`finalMessage()`) and not. Text, thinking, tool
// calls (their inputs as objects), usage and stop reasons must come out as the fixture says; a
// failure must reach the SDK as an error with the status its retry rules expect.
import Anthropic from '@anthropic-ai/sdk'
import { setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { UpstreamKind } from '../config'
import { directFetch, startTestProxy, type TestProxy } from '../test-proxy'
import { anthropicFixtures } from '../upstreams/fixtures/anthropic'
import { MOCK_BASE_URLS, type UpstreamFixture } from '../upstreams/fixtures/fixture'
import { fixtureHandler } from '../upstreams/fixtures/mock'
import { ollamaFixtures } from '../upstreams/fixtures/ollama'
import { openaiFixtures } from '../upstreams/fixtures/openai'
import { createSimulatedUpstream } from '../upstreams/simulated'
import type { FinishReason, UpstreamEvent } from '../upstreams/upstream'
import { mergeOutput, type OutputEvent } from './format'

const server = setupServer()
beforeAll(() => server.listen({ onUnhandledRequest: 'bypass' }))
afterEach(() => server.resetHandlers())
afterAll(() => server.close())

const proxies = new Map<UpstreamKind, TestProxy>()
beforeAll(async () => {
  for (const kind of ['simulated', 'openai', 'anthropic', 'ollama'] as const) {
    const flags =
      kind === 'simulated' ? [] : ['--upstream', kind, '--upstream-url', MOCK_BASE_URLS[kind]]
    proxies.set(kind, await startTestProxy(flags))
  }
})
afterAll(() => Promise.all([...proxies.values()].map((proxy) => proxy.shutdown())))

/** The SDK pointed at the proxy of `kind`, over the real socket, without its own retries. */
const sdk = (kind: UpstreamKind) =>
  new Anthropic({
    apiKey: 'sk-ant-test',
    baseURL: proxies.get(kind)?.url,
    fetch: directFetch,
    maxRetries: 0,
  })

const params = {
  model: 'claude-haiku-4-5',
  max_tokens: 1024,
  messages: [{ role: 'user' as const, content: 'What is the weather in Zürich?' }],
}

/** The API's stop reasons, written out here so the table checks the format's own mapping. */
const STOP_REASONS: Readonly<Record<FinishReason, string>> = {
  stop: 'end_turn',
  length: 'max_tokens',
  'tool-calls': 'tool_use',
  'content-filter': 'refusal',
  other: 'end_turn',
}

/** The Message content, stop reason and usage a fixture's normalised events stand for. */
function expectMessage(message: Anthropic.Message, events: readonly UpstreamEvent[]) {
  const content: object[] = []
  let usage: object = { input_tokens: expect.any(Number), output_tokens: expect.any(Number) }
  let stop: string | undefined
  for (const event of events) {
    if (event.type === 'text') content.push({ type: 'text', text: event.text })
    if (event.type === 'reasoning') {
      content.push({ type: 'thinking', thinking: event.text, signature: '' })
    }
    if (event.type === 'reasoning-signature') {
      content[content.length - 1] = { ...content.at(-1), signature: event.signature }
    }
    if (event.type === 'tool-call') {
      const input = JSON.parse(event.arguments)
      content.push({ type: 'tool_use', id: event.id, name: event.name, input })
    }
    if (event.type === 'usage') {
      usage = { input_tokens: event.inputTokens, output_tokens: event.outputTokens }
    }
    if (event.type === 'finish') stop = STOP_REASONS[event.reason]
  }
  expect(message.content).toEqual(content)
  expect(message.stop_reason).toBe(stop)
  expect(message.usage).toMatchObject(usage)
}

/** How the SDK's call of each mode comes out. */
const MODES = {
  'streamed, finalMessage()': (client: Anthropic) => client.messages.stream(params).finalMessage(),
  'not streamed': (client: Anthropic) => client.messages.create(params),
} as const

const fixtures = [...openaiFixtures, ...anthropicFixtures, ...ollamaFixtures]

for (const fixture of fixtures) {
  describe(`/v1/messages × ${fixture.kind}: ${fixture.name}`, () => {
    it.each(Object.keys(MODES) as Array<keyof typeof MODES>)('%s', async (mode) => {
      server.use(fixtureHandler(fixture, { chunking: { size: 7 } }))
      const answer = MODES[mode](sdk(fixture.kind))
      if (!('error' in fixture.expected)) {
        expectMessage(await answer, fixture.expected.events)
        return
      }
      const error = await answer.then(
        () => expect.fail('the SDK returned an answer for a failed upstream'),
        (caught: unknown) => caught,
      )
      expect(error).toBeInstanceOf(Anthropic.APIError)
      expect((error as InstanceType<typeof Anthropic.APIError>).status).toBe(
        expectedStatus(fixture, mode === 'not streamed'),
      )
    })
  })
}

/**
 * The status the SDK sees: the upstream's own (or 502 for a 200 that is no stream) when it refused
 * before streaming; none (an `event: error` inside the 200 stream) when it failed after, except
 * for a non-streamed request: 529 (the API's "overloaded", which the SDKs retry) or 502.
 */
function expectedStatus(fixture: UpstreamFixture, whole: boolean): number | undefined {
  const { error } = fixture.expected as Extract<UpstreamFixture['expected'], { error: unknown }>
  const type = fixture.headers?.['content-type'] ?? 'text/event-stream'
  const opened = fixture.status === undefined && /event-stream|ndjson/.test(type)
  if (!opened) return fixture.status ?? 502
  if (!whole) return undefined
  return error.retryable ? 529 : 502
}

describe('/v1/messages × simulated', () => {
  const tools = [
    {
      name: 'get_weather',
      description: 'Current weather',
      input_schema: { type: 'object' as const, properties: { city: { type: 'string' } } },
    },
  ]
  const toolParams = {
    ...params,
    messages: [{ role: 'user' as const, content: 'Use get_weather for Oslo' }],
    tools,
    thinking: { type: 'enabled' as const, budget_tokens: 1024 },
  }

  /** What the simulated model says to the same request, read from it directly. */
  async function simulatedEvents(): Promise<UpstreamEvent[]> {
    const upstream = createSimulatedUpstream({ ttftMs: 0, tokensPerSecond: 1e6 })
    const events: OutputEvent[] = []
    const request = {
      model: params.model,
      messages: [{ role: 'user' as const, content: 'Use get_weather for Oslo' }],
      tools: [
        {
          name: 'get_weather',
          description: 'Current weather',
          parameters: tools[0]?.input_schema ?? {},
        },
      ],
      maxTokens: 1024,
      reasoning: true,
    }
    for await (const chunk of upstream.stream(request, { signal: new AbortController().signal })) {
      for (const event of chunk) mergeOutput(events, event)
    }
    return events.filter((event) => event.type !== 'start')
  }

  it.each(Object.keys(MODES) as Array<keyof typeof MODES>)(
    'thinking, text and a tool call (%s)',
    async (mode) => {
      const client = sdk('simulated')
      const message =
        mode === 'not streamed'
          ? await client.messages.create(toolParams)
          : await client.messages.stream(toolParams).finalMessage()
      expectMessage(message, await simulatedEvents())
      expect(message.content.map((block) => block.type)).toEqual(['thinking', 'text', 'tool_use'])
    },
  )
})
