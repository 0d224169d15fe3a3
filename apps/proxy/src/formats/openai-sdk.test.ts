// The OpenAI-compatible endpoint driven by the official `openai` SDK, unmodified, over real
// loopback sockets, against an msw-mocked OpenAI upstream: what the SDK assembles must equal the
// upstream fixture exactly; a cut between the SDK and the proxy must make the SDK throw; and
// @unbroken/client reading the same endpoint through cuts gets the whole answer once.
import { createEventStream } from '@unbroken/client'
import {
  baseSeed,
  createFaultProxy,
  createRandom,
  describeSeed,
  randomInt,
} from '@unbroken/test-kit'
import OpenAI from 'openai'
import { describe, expect, it } from 'vitest'
import { directFetch, useMockedUpstream } from '../test-proxy'
import { fixtureHandler, pacedHandler } from '../upstreams/fixtures/mock'
import { openaiFixtures, openaiStream } from '../upstreams/fixtures/openai'
import { composeAnswer, tokenize } from '../upstreams/simulated-text'
import { assembleChunks, readText } from './openai-test-kit'

const target = useMockedUpstream('openai')
const { server } = target

const fixture = (name: string) => {
  const found = openaiFixtures.find((item) => item.name === name)
  if (!found) throw new Error(`no fixture ${name}`)
  return found
}
const TEXT = fixture('text with usage, then [DONE]')
const TOOLS = fixture('two tool calls as fragments keyed by index, interleaved')

/** The SDK pointed at `origin`; no retries, so that a failure shows as the error it is. */
const sdk = (origin: string) =>
  new OpenAI({ baseURL: `${origin}/v1`, apiKey: 'sk-local', fetch: directFetch, maxRetries: 0 })

const messages = [{ role: 'user' as const, content: 'Hello' }]

const textOfFixture = 'Héllo, 世界! 👩‍💻 cafe\u0301 — done.'

describe('the openai SDK as the client', () => {
  it('streams the exact text, then usage, through chat.completions.create', async () => {
    server.use(fixtureHandler(TEXT))
    const stream = await sdk(target.proxy.url).chat.completions.create({
      model: 'gpt-4o-mini',
      messages,
      stream: true,
      stream_options: { include_usage: true },
    })
    let text = ''
    let usage: OpenAI.CompletionUsage | null | undefined
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? ''
      usage = chunk.usage ?? usage
    }
    expect(text).toBe(textOfFixture)
    expect(usage).toEqual({ prompt_tokens: 12, completion_tokens: 9, total_tokens: 21 })
  })

  it('answers stream: false with the exact text and usage', async () => {
    server.use(fixtureHandler(TEXT))
    const completion = await sdk(target.proxy.url).chat.completions.create({
      model: 'gpt-4o-mini',
      messages,
    })
    expect(completion.choices[0]?.message.content).toBe(textOfFixture)
    expect(completion.choices[0]?.finish_reason).toBe('stop')
    expect(completion.usage).toEqual({ prompt_tokens: 12, completion_tokens: 9, total_tokens: 21 })
  })

  it.each([true, false])(
    'assembles tool calls with exact arguments (stream: %s)',
    async (stream) => {
      server.use(fixtureHandler(TOOLS))
      const body = {
        model: 'gpt-4o-mini',
        messages,
        tools: [
          { type: 'function' as const, function: { name: 'get_weather', parameters: {} } },
          { type: 'function' as const, function: { name: 'get_time', parameters: {} } },
        ],
      }
      const client = sdk(target.proxy.url)
      const completion = stream
        ? await client.chat.completions.stream(body).finalChatCompletion()
        : await client.chat.completions.create(body)
      const [choice] = completion.choices
      expect(choice?.finish_reason).toBe('tool_calls')
      expect(
        choice?.message.tool_calls?.map((call) =>
          call.type === 'function' ? [call.id, call.function.name, call.function.arguments] : [],
        ),
      ).toEqual([
        ['call_a', 'get_weather', '{"city":"Zürich"}'],
        ['call_b', 'get_time', '{"tz":"Europe/Oslo"}'],
      ])
    },
  )

  it('throws the upstream 429 as a RateLimitError with its Retry-After', async () => {
    server.use(fixtureHandler(fixture('a 429 with Retry-After before the stream')))
    const error = await sdk(target.proxy.url)
      .chat.completions.create({ model: 'gpt-4o-mini', messages, stream: true })
      .catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(OpenAI.RateLimitError)
    expect((error as InstanceType<typeof OpenAI.RateLimitError>).headers.get('retry-after')).toBe(
      '7',
    )
  })

  it('throws an error chunk (a truncated upstream) as an APIError, after the partial text', async () => {
    server.use(fixtureHandler(fixture('a stream that ends without [DONE]')))
    const stream = await sdk(target.proxy.url).chat.completions.create({
      model: 'gpt-4o-mini',
      messages,
      stream: true,
    })
    const { text, error } = await readText(stream)
    expect(text).toBe('Cut off mid-')
    expect(error).toBeInstanceOf(OpenAI.APIError)
    expect((error as Error).message).toMatch(/incomplete/)
  })
})

describe('cuts between the client and the proxy', () => {
  const tokens = tokenize(composeAnswer(createRandom(7), messages))

  it('make the openai SDK throw, never end short', async () => {
    server.use(pacedHandler('openai', openaiStream(tokens), { gapMs: 2 }))
    const faults = await createFaultProxy({
      targetPort: Number(new URL(target.proxy.url).port),
      plan: { cutAt: 1500 },
    })
    try {
      const stream = await sdk(faults.origin).chat.completions.create({
        model: 'gpt-4o-mini',
        messages,
        stream: true,
      })
      const { text, error } = await readText(stream)
      expect(error).toBeInstanceOf(Error)
      expect(text.length).toBeGreaterThan(0)
      expect(text.length).toBeLessThan(tokens.join('').length)
    } finally {
      await faults.close()
    }
  })

  it.each([0, 1])(
    'leave @unbroken/client with the whole answer and no duplicate (run %i)',
    async (run) => {
      const seed = baseSeed() + run
      const random = createRandom(seed)
      const said = tokenize(composeAnswer(random, [{ role: 'user', content: `seed ${seed}` }]))
      server.use(pacedHandler('openai', openaiStream(said), { gapMs: 2 }))
      const faults = await createFaultProxy({
        targetPort: Number(new URL(target.proxy.url).port),
        plan: ({ index }) => (index < 3 ? { cutAt: randomInt(random, 600, 2000) } : {}),
      })
      try {
        const stream = createEventStream(`${faults.origin}/v1/chat/completions`, {
          fetch: directFetch,
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'gpt-4o-mini', messages, stream: true }),
          backoff: { initialMs: 10, maxMs: 50 },
          random,
        })
        const events: Array<{ id: string; event: string; data: string }> = []
        for await (const { lastEventId, type, data } of stream) {
          events.push({ id: lastEventId, event: type, data })
        }
        const context = describeSeed(seed)
        expect(faults.connections.filter((c) => c.cut).length, context).toBe(3)
        expect(new Set(events.map((event) => event.id)).size, context).toBe(events.length)
        const outcome = assembleChunks(events)
        expect(outcome.text, context).toBe(said.join(''))
        expect(outcome.done, context).toBe(true)
      } finally {
        await faults.close()
      }
    },
  )
})
