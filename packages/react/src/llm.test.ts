import type { ServerSentEvent } from '@unbroken/client'
import { expect, it } from 'vitest'
import { createLLMState, reduceLLMEvent } from './llm'

const event = (type: string, data: unknown): ServerSentEvent => ({
  type,
  data: typeof data === 'string' ? data : JSON.stringify(data),
  lastEventId: '1',
})
const fold = (...events: ServerSentEvent[]) =>
  events.reduce(
    (state, next, index) => reduceLLMEvent(state, next, 1_000 + index),
    createLLMState(900),
  )

it('appends delta text and reasoning, counting tokens and their times', () => {
  expect(
    fold(
      event('delta', { reasoning: 'hm' }),
      event('delta', { text: 'Hi' }),
      event('delta', { text: '!' }),
    ),
  ).toMatchObject({
    text: 'Hi!',
    reasoning: 'hm',
    tokens: 3,
    sentAt: 900,
    firstTokenAt: 1_000,
    lastTokenAt: 1_002,
  })
})

it('collects complete tool calls in order', () => {
  const call = { id: 'c1', name: 'weather', arguments: '{"city":"Oslo"}' }
  expect(
    fold(event('tool-call', call), event('tool-call', { ...call, id: 'c2' })).toolCalls,
  ).toEqual([call, { ...call, id: 'c2' }])
})

it('keeps the usage', () => {
  expect(fold(event('usage', { inputTokens: 3, outputTokens: 9 })).usage).toEqual({
    inputTokens: 3,
    outputTokens: 9,
  })
})

it("takes done's finishReason, and cancelled from a DELETE's done", () => {
  expect(fold(event('done', { finishReason: 'length' })).finishReason).toBe('length')
  expect(fold(event('done', { reason: 'cancelled' })).finishReason).toBe('cancelled')
})

it('passes meta and unknown events without reading their data', () => {
  const state = createLLMState(0)
  expect(reduceLLMEvent(state, event('meta', { streamId: 's' }), 1)).toBe(state)
  expect(reduceLLMEvent(state, event('message', 'not json'), 1)).toBe(state)
})

it('throws on a delta whose data is not JSON (the stream then fails as invalid-argument)', () => {
  expect(() => reduceLLMEvent(createLLMState(0), event('delta', 'Hi'), 1)).toThrow(SyntaxError)
})
