import { afterEach, expect, it, vi } from 'vitest'
import { UnbrokenClientError } from './errors'
import { createLLMState, deriveLLMView, type LLMState, reduceLLMEvent } from './llm'
import type { ServerSentEvent } from './parser'
import type { StreamSessionView } from './session-types'

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

it('stamps the send and each token with the current time when no time is given', () => {
  vi.useFakeTimers({ toFake: ['Date'], now: 5_000 })
  const sent = createLLMState()
  vi.setSystemTime(5_250)
  expect(reduceLLMEvent(sent, event('delta', { text: 'Hi' }))).toMatchObject({
    sentAt: 5_000,
    firstTokenAt: 5_250,
    lastTokenAt: 5_250,
  })
})

afterEach(() => {
  vi.useRealTimers()
})

const IDLE_VIEW: StreamSessionView<LLMState> = {
  status: 'idle',
  url: '',
  lastEventId: '',
  attempt: 0,
  error: undefined,
  closeReason: undefined,
  events: 0,
  reconnects: 0,
  replayed: 0,
  timeToFirstByteMs: undefined,
  state: createLLMState(900),
}
const view = (patch: Partial<StreamSessionView<LLMState>>) => ({ ...IDLE_VIEW, ...patch })

it('derives time to first token and tokens per second after the first token', () => {
  const state = fold(
    event('delta', { text: 'a' }),
    event('delta', { text: 'b' }),
    event('delta', {}),
  )
  const { metrics } = deriveLLMView(view({ status: 'open', state, reconnects: 2, replayed: 5 }))
  // Sent at 900, tokens at 1,000, 1,001 and 1,002: two tokens in 2 ms after the first.
  expect(metrics).toEqual({
    timeToFirstToken: 100,
    tokensPerSecond: 1_000,
    reconnects: 2,
    replayed: 5,
  })
})

it('has no time to first token or rate before a token, nor a rate from one token', () => {
  expect(deriveLLMView(view({ status: 'open' })).metrics).toMatchObject({
    timeToFirstToken: undefined,
    tokensPerSecond: undefined,
  })
  const one = fold(event('delta', { text: 'a' }))
  expect(deriveLLMView(view({ status: 'open', state: one })).metrics.tokensPerSecond).toBe(
    undefined,
  )
})

it('is waiting once sent, streaming from the first token, reconnecting while a connection is retried', () => {
  const streaming = fold(event('delta', { text: 'a' }))
  expect(
    [
      view({}),
      view({ status: 'connecting' }),
      view({ status: 'open' }),
      view({ status: 'open', state: streaming }),
      view({ status: 'reconnecting', state: streaming }),
    ].map((v) => deriveLLMView(v).status),
  ).toEqual(['idle', 'waiting', 'waiting', 'streaming', 'reconnecting'])
})

it('ends done, stopped (a cancelled done) or error, and carries the error', () => {
  const error = new UnbrokenClientError('network', 'cut')
  const closed = { status: 'closed' } as const
  expect(deriveLLMView(view({ ...closed, closeReason: 'done' })).status).toBe('done')
  const cancelled = fold(event('done', { reason: 'cancelled' }))
  expect(deriveLLMView(view({ ...closed, closeReason: 'done', state: cancelled })).status).toBe(
    'stopped',
  )
  const failed = deriveLLMView(view({ ...closed, closeReason: 'error', error }))
  expect([failed.status, failed.error]).toEqual(['error', error])
})
