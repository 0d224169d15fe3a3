// Issue 16, point 4: an official SDK streams through nginx and the two instances sharing Redis,
// against the proxy's compatible endpoint, and gets the simulated model's answer exactly.
// (`openai` joins it once `/v1/chat/completions` is on main.)
import Anthropic from '@anthropic-ai/sdk'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { simulatedAnswer } from './answer'
import { startTopology, type Topology } from './topology'

let topology: Topology

beforeAll(async () => {
  topology = await startTopology()
}, 120_000)

afterAll(() => topology?.close())

it('@anthropic-ai/sdk streams a message through nginx: exactly the model’s answer', async () => {
  // The proxy runs in open mode here: the SDK's key is sent and not needed.
  const client = new Anthropic({ apiKey: 'not-needed', baseURL: topology.origin, maxRetries: 0 })
  const messages = [{ role: 'user' as const, content: 'Explain load balancers and streams' }]
  const message = await client.messages
    .stream({ model: 'claude-haiku-4-5', max_tokens: 1024, messages })
    .finalMessage()
  const text = message.content.map((block) => (block.type === 'text' ? block.text : '')).join('')
  expect(text).toBe(await simulatedAnswer({ messages, maxTokens: 1024 }))
  expect(message.stop_reason).toBe('end_turn')
})
