import { describe, expect, it } from 'vitest'
import { ProxyError } from '../errors'
import { nativeFormat } from './native'

describe('nativeFormat', () => {
  it('renders each output as its protocol v1 event', () => {
    expect(
      nativeFormat.render([
        { type: 'start', streamId: 's1', model: 'm', upstream: 'openai' },
        { type: 'reasoning', text: 'hm' },
        // Protocol v1 has no field for it: nothing is written.
        { type: 'reasoning-signature', signature: 'EqQB' },
        { type: 'text', text: 'Hé 🚀' },
        { type: 'tool-call', id: 'c1', name: 'get_weather', arguments: '{"city":"Oslo"}' },
        { type: 'usage', inputTokens: 3, outputTokens: 4 },
        { type: 'usage', inputTokens: 3, outputTokens: 4, estimated: true },
        { type: 'finish', reason: 'tool-calls' },
      ]),
    ).toEqual([
      { event: 'meta', data: '{"streamId":"s1","model":"m","upstream":"openai"}' },
      { event: 'delta', data: '{"reasoning":"hm"}' },
      { event: 'delta', data: '{"text":"Hé 🚀"}' },
      {
        event: 'tool-call',
        data: '{"id":"c1","name":"get_weather","arguments":"{\\"city\\":\\"Oslo\\"}"}',
      },
      { event: 'usage', data: '{"inputTokens":3,"outputTokens":4}' },
      { event: 'usage', data: '{"inputTokens":3,"outputTokens":4,"estimated":true}' },
      { event: 'done', data: '{"finishReason":"tool-calls"}' },
    ])
  })

  it('writes a failure as a final error: retryable false, no retryAfterMs, whatever the code', () => {
    const error = new ProxyError('upstream-rate-limited', 'Slow down. Retry in 7 s.', {
      retryAfterMs: 7000,
    })
    expect(error.retryable).toBe(true)
    expect(nativeFormat.fail(error)).toEqual({
      event: 'error',
      data: '{"code":"upstream-rate-limited","message":"Slow down. Retry in 7 s.","retryable":false}',
    })
  })
})
