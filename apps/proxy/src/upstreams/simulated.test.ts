import { describe, expect, it } from 'vitest'
import { ProxyError } from '../errors'
import type { GenerationRequest } from '../request'
import type { Faults } from './faults'
import { createSimulatedUpstream } from './simulated'
import { tokenize } from './simulated-text'
import type { UpstreamEvent } from './upstream'

// Fast enough for tests; the pace itself is not what these tests check.
const upstream = createSimulatedUpstream({ ttftMs: 0, tokensPerSecond: 20_000 })

const ask = (content: string, extra: Partial<GenerationRequest> = {}): GenerationRequest => ({
  model: 'simulated',
  messages: [{ role: 'user', content }],
  ...extra,
})

async function run(
  request: GenerationRequest,
  faults?: Faults,
  signal = new AbortController().signal,
) {
  const chunks: UpstreamEvent[][] = []
  let error: unknown
  try {
    for await (const chunk of upstream.stream(request, { signal, faults })) chunks.push([...chunk])
  } catch (caught) {
    error = caught
  }
  const events = chunks.flat()
  const text = events.map((e) => (e.type === 'text' ? e.text : '')).join('')
  return { chunks, events, text, error }
}

describe('simulated upstream', () => {
  it('gives the same text for the same messages and seed', async () => {
    const a = await run(ask('Explain resumable streams', { seed: 7 }))
    const b = await run(ask('Explain resumable streams', { seed: 7 }))
    expect(a.text.length).toBeGreaterThan(100)
    expect(b.text).toBe(a.text)
  })

  it('gives another text for another seed or other messages', async () => {
    const base = await run(ask('Explain resumable streams', { seed: 7 }))
    expect((await run(ask('Explain resumable streams', { seed: 8 }))).text).not.toBe(base.text)
    expect((await run(ask('Explain resumable streams!', { seed: 7 }))).text).not.toBe(base.text)
  })

  it('writes CJK, emoji, combining marks and fenced code across seeds', async () => {
    const texts = await Promise.all(
      Array.from({ length: 12 }, (_, seed) => run(ask('Tell me everything', { seed }))),
    )
    const all = texts.map((t) => t.text).join('\n')
    expect(all).toMatch(/\p{Script=Han}/u)
    expect(all).toMatch(/\p{Extended_Pictographic}\u200d\p{Extended_Pictographic}/u)
    expect(all).toMatch(/\p{M}/u)
    expect(all).toMatch(/```\w+\n[\s\S]+?\n```/)
  })

  it('ends with usage and finish stop, as a real upstream does', async () => {
    const { events } = await run(ask('Hi'))
    expect(events.slice(-2)).toEqual([
      { type: 'usage', inputTokens: expect.any(Number), outputTokens: expect.any(Number) },
      { type: 'finish', reason: 'stop' },
    ])
    const text = events.filter((e) => e.type === 'text').length
    expect(events.at(-2)).toMatchObject({ outputTokens: text })
  })

  it('stops at maxTokens with finish length', async () => {
    const { events } = await run(ask('Hi', { maxTokens: 5 }))
    expect(events.filter((e) => e.type === 'text')).toHaveLength(5)
    expect(events.at(-1)).toEqual({ type: 'finish', reason: 'length' })
  })

  it('streams reasoning first when asked for it', async () => {
    const { events } = await run(ask('Hi', { reasoning: true }))
    const firstText = events.findIndex((e) => e.type === 'text')
    expect(events[0]?.type).toBe('reasoning')
    expect(events.slice(firstText).some((e) => e.type === 'reasoning')).toBe(false)
  })

  it('calls a tool that is offered and named in the prompt, with arguments from its schema', async () => {
    const tools = [
      { name: 'get_time', parameters: { type: 'object' } },
      {
        name: 'get_weather',
        parameters: {
          type: 'object',
          properties: { city: { type: 'string' }, unit: { enum: ['c', 'f'] } },
        },
      },
    ]
    const { events } = await run(ask('Please use get_weather for Oslo', { tools }))
    const call = events.find((e) => e.type === 'tool-call')
    expect(call).toMatchObject({ type: 'tool-call', name: 'get_weather', id: expect.any(String) })
    const args = JSON.parse((call as { arguments: string }).arguments)
    expect(Object.keys(args).sort()).toEqual(['city', 'unit'])
    expect(['c', 'f']).toContain(args.unit)
    expect(events.at(-1)).toEqual({ type: 'finish', reason: 'tool-calls' })
  })

  it('answers in text when tools are offered but not asked for', async () => {
    const tools = [{ name: 'get_weather', parameters: { type: 'object' } }]
    const { events } = await run(ask('Write a poem', { tools }))
    expect(events.some((e) => e.type === 'tool-call')).toBe(false)
  })

  it('answers a tool result with text', async () => {
    const request = ask('Use get_weather', {
      messages: [
        { role: 'user', content: 'Use get_weather' },
        {
          role: 'assistant',
          content: '',
          toolCalls: [{ id: 'c1', name: 'get_weather', arguments: '{}' }],
        },
        { role: 'tool', toolCallId: 'c1', content: '21 °C and sunny' },
      ],
      tools: [{ name: 'get_weather', parameters: { type: 'object' } }],
    })
    const { text, events } = await run(request)
    expect(text).toContain('21 °C and sunny')
    expect(events.at(-1)).toEqual({ type: 'finish', reason: 'stop' })
  })

  it('cut-after=N: N tokens, then the end without a finish (a truncation)', async () => {
    const { events, error } = await run(ask('Hi'), { cutAfter: 4 })
    expect(error).toBeUndefined()
    expect(events).toHaveLength(4)
    expect(events.every((e) => e.type === 'text')).toBe(true)
  })

  it('error-after=N: N tokens, then a retryable upstream-error', async () => {
    const { events, error } = await run(ask('Hi'), { errorAfter: 3 })
    expect(events).toHaveLength(3)
    expect(error).toBeInstanceOf(ProxyError)
    expect(error).toMatchObject({ code: 'upstream-error', retryable: true })
  })

  it('stall-after=N: N tokens, then silence until aborted', async () => {
    const stop = new AbortController()
    const running = run(ask('Hi'), { stallAfter: 2 }, stop.signal)
    await new Promise((resolve) => setTimeout(resolve, 50))
    stop.abort('cancelled')
    const { events, error } = await running
    expect(events).toHaveLength(2)
    expect(error).toBe('cancelled')
  })

  it('slow-start=MS: nothing before the prefill ends, and an abort ends the prefill', async () => {
    const stop = new AbortController()
    const running = run(ask('Hi'), { slowStart: 60_000 }, stop.signal)
    stop.abort('cancelled')
    const { events, error } = await running
    expect(events).toEqual([])
    expect((error as Error).name).toBe('AbortError')
  })

  it('sends several due tokens as one chunk when the consumer is behind', async () => {
    const { chunks, events } = await run(ask('Tell me a long story', { seed: 3 }))
    expect(chunks.length).toBeLessThan(events.length)
  })
})

describe('tokenize', () => {
  it('splits text into pieces that join back exactly, never inside a code point', () => {
    const text = 'Hé 世界 👩‍💻 🇳🇴 cafe\u0301 ```ts\nx\n``` ∑ᵢ'
    const tokens = tokenize(text)
    expect(tokens.join('')).toBe(text)
    // With the u flag a paired surrogate is one code point, so this matches only a lone half.
    for (const token of tokens) expect(token).not.toMatch(/\p{Surrogate}/u)
  })
})
