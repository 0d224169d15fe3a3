// Issue 16, point 4: the official SDKs stream through nginx and the two instances sharing Redis,
// against the proxy's compatible endpoints, and get the simulated model's answer exactly.
import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { simulatedAnswer } from './answer'
import { startTopology, type Topology } from './topology'

let topology: Topology

beforeAll(async () => {
  // A fast model (the streams are still sent token by token): what is checked here is the result.
  topology = await startTopology({ instanceEnv: { UNBROKEN_SIM_RATE: '400' } })
}, 120_000)

afterAll(() => topology?.close())

// The proxy runs in open mode here: the SDKs' keys are sent and not needed. No retries, so that a
// failure shows as the error it is.
const openai = () =>
  new OpenAI({ apiKey: 'not-needed', baseURL: `${topology.origin}/v1`, maxRetries: 0 })

/** The instance nginx says answered (`X-Unbroken-Upstream`), so the answer really crossed it. */
const answeredBy = (headers: Headers) => {
  const upstream = headers.get('x-unbroken-upstream') ?? ''
  return topology.instanceOn(Number(upstream.split(':').at(-1))).name
}

it('@anthropic-ai/sdk streams a message through nginx: exactly the model’s answer', async () => {
  const client = new Anthropic({ apiKey: 'not-needed', baseURL: topology.origin, maxRetries: 0 })
  const messages = [{ role: 'user' as const, content: 'Explain load balancers and streams' }]
  const message = await client.messages
    .stream({ model: 'claude-haiku-4-5', max_tokens: 1024, messages })
    .finalMessage()
  const text = message.content.map((block) => (block.type === 'text' ? block.text : '')).join('')
  expect(text).toBe(await simulatedAnswer({ messages, maxTokens: 1024 }))
  expect(message.stop_reason).toBe('end_turn')
})

const question = [{ role: 'user' as const, content: 'Explain rolling restarts and streams' }]

it('openai streams a chat completion through nginx: exactly the model’s answer, then usage', async () => {
  const { data: stream, response } = await openai()
    .chat.completions.create({
      model: 'simulated',
      messages: question,
      seed: 16,
      stream: true,
      stream_options: { include_usage: true },
    })
    .withResponse()
  expect(['A', 'B']).toContain(answeredBy(response.headers))
  let text = ''
  const finishReasons: string[] = []
  let usage: OpenAI.CompletionUsage | null | undefined
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta.content ?? ''
    const reason = chunk.choices[0]?.finish_reason
    if (reason) finishReasons.push(reason)
    usage = chunk.usage ?? usage
  }
  expect(text).toBe(await simulatedAnswer({ messages: question, seed: 16 }))
  expect(finishReasons).toEqual(['stop'])
  // The same request answered whole counts the same tokens: usage is the model's, not a guess.
  const whole = await openai().chat.completions.create({
    model: 'simulated',
    messages: question,
    seed: 16,
  })
  expect(usage).toEqual(whole.usage)
  expect(usage?.completion_tokens).toBeGreaterThan(0)
})

it('openai gets a whole chat completion (stream: false) through nginx: exactly the model’s answer', async () => {
  const { data: completion, response } = await openai()
    .chat.completions.create({ model: 'simulated', messages: question, seed: 61 })
    .withResponse()
  expect(['A', 'B']).toContain(answeredBy(response.headers))
  expect(completion.choices).toHaveLength(1)
  expect(completion.choices[0]?.message.content).toBe(
    await simulatedAnswer({ messages: question, seed: 61 }),
  )
  expect(completion.choices[0]?.finish_reason).toBe('stop')
})
