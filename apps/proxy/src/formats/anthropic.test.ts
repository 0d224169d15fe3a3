import { describe, expect, it } from 'vitest'
import { ProxyError } from '../errors'
import { createAnthropicFormat } from './anthropic'

const start = { type: 'start', streamId: 's1', model: 'claude-x', upstream: 'openai' } as const

/** Rendered events as `[event, data object]` pairs, easier to read than JSON text. */
function rendered(...batches: Parameters<ReturnType<typeof createAnthropicFormat>['render']>[0][]) {
  const format = createAnthropicFormat({ inputTokens: 12 })
  return batches.flatMap((batch) =>
    format.render(batch).map((input) => [input.event, JSON.parse(input.data)]),
  )
}

describe('createAnthropicFormat', () => {
  it('opens with message_start (the prompt estimate as input_tokens) and a ping', () => {
    expect(rendered([start])).toEqual([
      [
        'message_start',
        {
          type: 'message_start',
          message: {
            id: 'msg_s1',
            type: 'message',
            role: 'assistant',
            model: 'claude-x',
            content: [],
            stop_reason: null,
            stop_sequence: null,
            usage: {
              input_tokens: 12,
              cache_creation_input_tokens: 0,
              cache_read_input_tokens: 0,
              output_tokens: 0,
            },
          },
        },
      ],
      ['ping', { type: 'ping' }],
    ])
  })

  it('renders thinking, text and a tool call as numbered blocks, then message_delta and message_stop', () => {
    const events = rendered(
      [start],
      [{ type: 'reasoning', text: 'Hm' }],
      [
        { type: 'reasoning', text: 'm.' },
        { type: 'text', text: 'Zü' },
      ],
      [{ type: 'text', text: 'rich 🌦️' }],
      [
        { type: 'tool-call', id: 'toolu_1', name: 'get_weather', arguments: '{"city":"Zürich"}' },
        { type: 'usage', inputTokens: 30, outputTokens: 89 },
        { type: 'finish', reason: 'tool-calls' },
      ],
    ).slice(2)
    expect(events).toEqual([
      [
        'content_block_start',
        {
          type: 'content_block_start',
          index: 0,
          content_block: { type: 'thinking', thinking: '', signature: '' },
        },
      ],
      [
        'content_block_delta',
        {
          type: 'content_block_delta',
          index: 0,
          delta: { type: 'thinking_delta', thinking: 'Hm' },
        },
      ],
      [
        'content_block_delta',
        {
          type: 'content_block_delta',
          index: 0,
          delta: { type: 'thinking_delta', thinking: 'm.' },
        },
      ],
      ['content_block_stop', { type: 'content_block_stop', index: 0 }],
      [
        'content_block_start',
        { type: 'content_block_start', index: 1, content_block: { type: 'text', text: '' } },
      ],
      [
        'content_block_delta',
        { type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: 'Zü' } },
      ],
      [
        'content_block_delta',
        { type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: 'rich 🌦️' } },
      ],
      ['content_block_stop', { type: 'content_block_stop', index: 1 }],
      [
        'content_block_start',
        {
          type: 'content_block_start',
          index: 2,
          content_block: { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: {} },
        },
      ],
      [
        'content_block_delta',
        {
          type: 'content_block_delta',
          index: 2,
          delta: { type: 'input_json_delta', partial_json: '{"city":"Zürich"}' },
        },
      ],
      ['content_block_stop', { type: 'content_block_stop', index: 2 }],
      [
        'message_delta',
        {
          type: 'message_delta',
          delta: { stop_reason: 'tool_use', stop_sequence: null },
          usage: { input_tokens: 30, output_tokens: 89 },
        },
      ],
      ['message_stop', { type: 'message_stop' }],
      ['done', { type: 'ping' }],
    ])
  })

  it('closes a thinking block with its signature_delta, as the API does', () => {
    const events = rendered(
      [start],
      [
        { type: 'reasoning', text: 'Hm.' },
        { type: 'reasoning-signature', signature: 'EqQB' },
        { type: 'text', text: 'Hi' },
      ],
    ).slice(2)
    expect(events.slice(2, 4)).toEqual([
      [
        'content_block_delta',
        {
          type: 'content_block_delta',
          index: 0,
          delta: { type: 'signature_delta', signature: 'EqQB' },
        },
      ],
      ['content_block_stop', { type: 'content_block_stop', index: 0 }],
    ])
  })

  it.each([
    ['stop', 'end_turn'],
    ['length', 'max_tokens'],
    ['content-filter', 'refusal'],
    ['other', 'end_turn'],
  ] as const)(
    'maps finish %s to stop_reason %s, closing the open text block first',
    (reason, stop) => {
      const events = rendered([start, { type: 'text', text: 'x' }, { type: 'finish', reason }])
      expect(events.slice(-4).map(([name]) => name)).toEqual([
        'content_block_stop',
        'message_delta',
        'message_stop',
        'done',
      ])
      expect(events.at(-3)?.[1].delta.stop_reason).toBe(stop)
    },
  )

  it('reports the prompt estimate in message_delta when the upstream reported no usage', () => {
    const events = rendered([start, { type: 'finish', reason: 'stop' }])
    expect(events.at(-3)?.[1].usage).toEqual({ input_tokens: 12, output_tokens: 0 })
  })

  it('fails with overloaded_error when a new request may succeed, api_error otherwise', () => {
    const format = createAnthropicFormat({ inputTokens: 1 })
    const truncated = new ProxyError('upstream-truncated', 'Cut after 5 chunks.')
    const refused = new ProxyError('upstream-error', 'Bad arguments.', { retryable: false })
    expect(format.fail(truncated)).toEqual({
      event: 'error',
      data: '{"type":"error","error":{"type":"overloaded_error","message":"Cut after 5 chunks."}}',
    })
    expect(JSON.parse(format.fail(refused).data).error.type).toBe('api_error')
  })

  it('keeps a ping as its keepalive, so a silent upstream still shows life to the SDKs', () => {
    expect(createAnthropicFormat({ inputTokens: 0 }).keepalive).toEqual({
      event: 'ping',
      data: '{"type":"ping"}',
    })
  })
})
