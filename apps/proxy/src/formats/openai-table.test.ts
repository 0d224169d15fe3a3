// The endpoint × upstream table (issue 14, point 3): every recorded upstream fixture, and the
// simulated model, through every SDK-compatible endpoint, streaming and not. Whatever the pair,
// the client gets the upstream's text, reasoning, tool calls (complete, valid JSON), usage and stop
// reason, or, when the upstream failed, that endpoint's error: never a clean end after a failure.
import { readSse } from '@unbroken/test-kit'
import { setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { UpstreamKind } from '../config'
import { STATUS } from '../errors'
import type { GenerationRequest } from '../request'
import { startTestProxy, type TestProxy } from '../test-proxy'
import { anthropicFixtures } from '../upstreams/fixtures/anthropic'
import { MOCK_BASE_URLS, type UpstreamFixture } from '../upstreams/fixtures/fixture'
import { fixtureHandler } from '../upstreams/fixtures/mock'
import { ollamaFixtures } from '../upstreams/fixtures/ollama'
import { openaiFixtures } from '../upstreams/fixtures/openai'
import { createSimulatedUpstream } from '../upstreams/simulated'
import type { UpstreamEvent } from '../upstreams/upstream'
import { OPENAI_FINISH } from './openai'
import { assembleChunks, postChat } from './openai-test-kit'

const server = setupServer()
beforeAll(() => server.listen({ onUnhandledRequest: 'bypass' }))
afterEach(() => server.resetHandlers())
afterAll(() => server.close())

/** What a client of one endpoint got, in the proxy's own words, whatever the wire format. */
interface Outcome {
  readonly status: number
  readonly text: string
  readonly reasoning: string
  readonly toolCalls: ReadonlyArray<{ id: string; name: string; arguments: string }>
  readonly finishReason: string | undefined
  readonly usage: { inputTokens: number; outputTokens: number } | undefined
  /** The endpoint's error code, when the answer or the stream ended in an error. */
  readonly error: string | undefined
}

/** The request every pair answers: it offers a tool, so fixtures with tool calls fit it. */
const chat = {
  model: 'test-model',
  messages: [{ role: 'user', content: 'What is the weather in Zürich? Use get_weather.' }],
  tools: [
    {
      type: 'function',
      function: { name: 'get_weather', parameters: { type: 'object', properties: {} } },
    },
  ],
  seed: 3,
}

/** Each SDK endpoint, read the way its SDK reads it. */
const ENDPOINTS: Record<string, (proxy: TestProxy, body?: object) => Promise<Outcome>> = {
  'openai stream': async (proxy, body = chat) => {
    const response = await postChat(proxy, {
      ...body,
      stream: true,
      stream_options: { include_usage: true },
    })
    if (response.status !== 200) return failed(response.status, await response.json())
    const outcome = assembleChunks(await readSse(response).rest())
    // A clean end is `[DONE]` after a finish_reason; anything else must have been an error.
    expect(outcome.done).toBe(outcome.error === undefined)
    return {
      status: 200,
      ...outcome,
      usage: outcome.usage && {
        inputTokens: outcome.usage.prompt_tokens,
        outputTokens: outcome.usage.completion_tokens,
      },
      error: outcome.error?.code,
    }
  },
  'openai json': async (proxy, body = chat) => {
    const response = await postChat(proxy, body)
    const json = await response.json()
    if (response.status !== 200) return failed(response.status, json)
    const [{ message, finish_reason }] = json.choices
    return {
      status: 200,
      text: message.content ?? '',
      reasoning: message.reasoning_content ?? '',
      toolCalls: (message.tool_calls ?? []).map(
        (call: { id: string; function: { name: string; arguments: string } }) => ({
          id: call.id,
          name: call.function.name,
          arguments: call.function.arguments,
        }),
      ),
      finishReason: finish_reason,
      usage: { inputTokens: json.usage.prompt_tokens, outputTokens: json.usage.completion_tokens },
      error: undefined,
    }
  },
}

/** The stop reason each endpoint states for a normalised one. */
const FINISH_OF: Record<string, (reason: UpstreamEvent & { type: 'finish' }) => string> = {
  'openai stream': ({ reason }) => OPENAI_FINISH[reason],
  'openai json': ({ reason }) => OPENAI_FINISH[reason],
}

function failed(status: number, body: { error: { code: string } }): Outcome {
  return {
    status,
    text: '',
    reasoning: '',
    toolCalls: [],
    finishReason: undefined,
    usage: undefined,
    error: body.error.code,
  }
}

/** What a client must get for an upstream that said `events` (and then failed, or not). */
function expectOutcome(
  endpoint: string,
  outcome: Outcome,
  events: readonly UpstreamEvent[],
  failure?: { code: string; status?: number | undefined; streaming: boolean },
) {
  const of = <T extends UpstreamEvent['type']>(type: T) =>
    events.filter((event): event is Extract<UpstreamEvent, { type: T }> => event.type === type)
  if (failure) {
    // Before any output the answer is an HTTP error with the upstream's status; after some, a
    // stream keeps what arrived and ends with the error, and a JSON answer is the error alone.
    const before = events.length === 0 || !failure.streaming
    expect(outcome.status).toBe(before ? (failure.status ?? STATUS[failure.code as never]) : 200)
    expect(outcome.error).toBe(failure.code)
    if (before) return
  } else {
    expect(outcome.error).toBeUndefined()
    const finish = of('finish')[0]
    expect(outcome.finishReason).toBe(finish && FINISH_OF[endpoint]?.(finish))
  }
  expect(outcome.text).toBe(
    of('text')
      .map((event) => event.text)
      .join(''),
  )
  expect(outcome.reasoning).toBe(
    of('reasoning')
      .map((event) => event.text)
      .join(''),
  )
  expect(outcome.toolCalls).toEqual(
    of('tool-call').map(({ id, name, arguments: args }) => ({ id, name, arguments: args })),
  )
  for (const call of outcome.toolCalls) expect(() => JSON.parse(call.arguments)).not.toThrow()
  const usage = of('usage')[0]
  if (usage && !failure) {
    expect(outcome.usage).toEqual({
      inputTokens: usage.inputTokens,
      outputTokens: usage.outputTokens,
    })
  }
}

const FIXTURES: Record<Exclude<UpstreamKind, 'simulated'>, readonly UpstreamFixture[]> = {
  openai: openaiFixtures,
  anthropic: anthropicFixtures,
  ollama: ollamaFixtures,
}

for (const [kind, fixtures] of Object.entries(FIXTURES) as Array<
  [keyof typeof FIXTURES, readonly UpstreamFixture[]]
>) {
  describe(`upstream ${kind}`, () => {
    let proxy: TestProxy
    beforeAll(async () => {
      proxy = await startTestProxy(['--upstream', kind, '--upstream-url', MOCK_BASE_URLS[kind]])
    })
    afterAll(() => proxy.shutdown())

    for (const [endpoint, read] of Object.entries(ENDPOINTS)) {
      // A loop, not it.each: its `$name` titles are cut at 40 characters, which `-t` cannot match.
      for (const fixture of fixtures) {
        it(`${endpoint} ← ${fixture.name}`, async () => {
          server.use(fixtureHandler(fixture))
          const outcome = await read(proxy)
          const { expected } = fixture
          const failure =
            'error' in expected
              ? {
                  code: expected.error.code,
                  status: fixture.status,
                  streaming: endpoint.endsWith('stream'),
                }
              : undefined
          expectOutcome(endpoint, outcome, expected.events, failure)
        })
      }
    }
  })
}

describe('upstream simulated', () => {
  let proxy: TestProxy
  beforeAll(async () => {
    proxy = await startTestProxy()
  })
  afterAll(() => proxy.shutdown())

  /** What the simulated model says to `request`, read straight from it. */
  async function said(request: GenerationRequest): Promise<UpstreamEvent[]> {
    const upstream = createSimulatedUpstream({ ttftMs: 0, tokensPerSecond: 1e6 })
    const events: UpstreamEvent[] = []
    const call = { signal: new AbortController().signal }
    for await (const chunk of upstream.stream(request, call)) events.push(...chunk)
    return events
  }

  const messages = [{ role: 'user' as const, content: chat.messages[0]?.content as string }]
  const cases: Array<[string, UpstreamEvent['type'], object, GenerationRequest]> = [
    [
      'a tool call',
      'tool-call',
      chat,
      {
        model: 'test-model',
        messages,
        seed: 3,
        tools: [{ name: 'get_weather', parameters: { type: 'object', properties: {} } }],
      },
    ],
    [
      'reasoning, then text',
      'reasoning',
      { model: 'test-model', messages, seed: 3, reasoning_effort: 'low' },
      { model: 'test-model', messages, seed: 3, reasoning: true },
    ],
  ]
  for (const [endpoint, read] of Object.entries(ENDPOINTS)) {
    for (const [name, must, body, request] of cases) {
      it(`${endpoint} ← ${name}`, async () => {
        const events = await said(request)
        expect(events.some((event) => event.type === must)).toBe(true)
        expectOutcome(endpoint, await read(proxy, body), events)
      })
    }
  }
})
