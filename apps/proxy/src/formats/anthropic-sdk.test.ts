// `/v1/messages` through broken networks, over real loopback: a fault proxy cuts connections at
// seeded byte offsets between the client and the proxy. The real `@anthropic-ai/sdk` must throw
// (never hand back a short answer as if it were whole); `@unbroken/client` on the same endpoint
// must resume to the whole answer with no duplicate. And the SDK's own retry rules must work on
// the statuses the proxy passes on. A failure prints its seed; replay with E2E_SEED=<seed>.
import Anthropic from '@anthropic-ai/sdk'
import { createEventStream } from '@unbroken/client'
import {
  baseSeed,
  createFaultProxy,
  createRandom,
  describeSeed,
  randomInt,
  type SseEvent,
} from '@unbroken/test-kit'
import { HttpResponse, http } from 'msw'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  directFetch,
  simulatedText,
  startTestProxy,
  type TestProxy,
  useMockedUpstream,
} from '../test-proxy'
import { anthropicFixtures } from '../upstreams/fixtures/anthropic'
import { MOCK_BASE_URLS } from '../upstreams/fixtures/fixture'
import { fixtureHandler, UPSTREAM_PATHS } from '../upstreams/fixtures/mock'

const BASE_SEED = baseSeed()
const RUNS = [0, 1, 2]

const params = {
  model: 'claude-haiku-4-5',
  max_tokens: 1024,
  messages: [{ role: 'user' as const, content: 'Explain resumable streams at length' }],
}

/** Starts a proxy with the simulated model, and a fault proxy factory in front of it. */
function cutTarget() {
  const target = { proxy: undefined as TestProxy | undefined }
  beforeAll(async () => {
    target.proxy = await startTestProxy()
  })
  afterAll(() => target.proxy?.shutdown())
  /**
   * Cuts the first `cuts` connections past the response head (about 300 bytes), anywhere in the
   * events; three cuts fit in the simulated answer's events (about 8 KB).
   */
  const cutting = (seed: number, cuts: number) => {
    const random = createRandom(seed)
    return createFaultProxy({
      targetPort: Number(new URL(target.proxy?.url as string).port),
      plan: ({ index }) => (index < cuts ? { cutAt: randomInt(random, 350, 1200) } : {}),
    })
  }
  return { target, cutting }
}

describe('the SDK through a cut between it and the proxy', () => {
  const { cutting } = cutTarget()

  it.each(RUNS)('throws, never returning a short message (run %i)', async (run) => {
    const seed = BASE_SEED + run
    const faults = await cutting(seed, 1)
    const client = new Anthropic({
      apiKey: 'k',
      baseURL: faults.origin,
      fetch: directFetch,
      maxRetries: 0,
    })
    const outcome = await client.messages
      .stream(params)
      .finalMessage()
      .then(
        (message) => ({ message }),
        (error: unknown) => ({ error }),
      )
    await faults.close()
    expect(faults.connections[0]?.cut, describeSeed(seed)).toBe(true)
    expect(outcome, describeSeed(seed)).toEqual({ error: expect.any(Error) })
  })
})

describe('@unbroken/client on /v1/messages through cuts', () => {
  const { target, cutting } = cutTarget()

  it.each(RUNS)('resumes to the whole answer with no duplicate (run %i)', async (run) => {
    const proxy = target.proxy as TestProxy
    const seed = BASE_SEED + run
    const faults = await cutting(seed, 3)
    const generations = proxy.records().length
    const stream = createEventStream(`${faults.origin}/v1/messages`, {
      fetch: directFetch,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...params, stream: true }),
      backoff: { initialMs: 10, maxMs: 50 },
      random: createRandom(seed),
    })
    const events: SseEvent[] = []
    for await (const { lastEventId, type, data } of stream) {
      events.push({ id: lastEventId, event: type, data })
    }
    await faults.close()
    const context = describeSeed(seed)
    expect(
      faults.connections.filter((c) => c.cut),
      context,
    ).toHaveLength(3)
    const ids = events.map((event) => event.id)
    expect(new Set(ids).size, context).toBe(ids.length)
    const text = events
      .filter((event) => event.event === 'content_block_delta')
      .map((event) => JSON.parse(event.data).delta.text)
      .join('')
    expect(text, context).toBe(
      await simulatedText({
        model: params.model,
        messages: params.messages,
        maxTokens: params.max_tokens,
      }),
    )
    expect(
      events.filter((event) => event.event === 'message_stop'),
      context,
    ).toHaveLength(1)
    // One generation for the stream, however many connections it took.
    expect(proxy.records().length - generations, context).toBe(1)
  })
})

describe("the SDK's retry rules on the statuses the proxy passes on", () => {
  const target = useMockedUpstream('anthropic')
  const { server } = target

  it('passes a 429 and its Retry-After on, and the SDK retries to the whole streamed answer', async () => {
    const [toolAnswer] = anthropicFixtures
    let requests = 0
    server.use(
      http.post(
        `${MOCK_BASE_URLS.anthropic}${UPSTREAM_PATHS.anthropic}`,
        () => {
          requests += 1
          return HttpResponse.json(
            { type: 'error', error: { type: 'rate_limit_error', message: 'Slow down.' } },
            { status: 429, headers: { 'retry-after': '1' } },
          )
        },
        { once: true },
      ),
      fixtureHandler(toolAnswer as (typeof anthropicFixtures)[number], {
        onRequest: () => (requests += 1),
      }),
    )
    const answers: Array<{ status: number; retryAfter: string | null }> = []
    const client = new Anthropic({
      apiKey: 'k',
      baseURL: target.proxy.url,
      maxRetries: 1,
      fetch: async (input, init) => {
        const response = await directFetch(input, init)
        answers.push({ status: response.status, retryAfter: response.headers.get('retry-after') })
        return response
      },
    })
    const message = await client.messages.stream(params).finalMessage()
    expect(requests).toBe(2)
    expect(answers).toEqual([
      { status: 429, retryAfter: '1' },
      { status: 200, retryAfter: null },
    ])
    expect(message.content.map((block) => block.type)).toEqual(['thinking', 'text', 'tool_use'])
    expect(message.content[2]).toMatchObject({ input: { city: 'Zürich' } })
  })
})
