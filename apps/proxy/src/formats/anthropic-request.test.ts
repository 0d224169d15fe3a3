import { describe, expect, it } from 'vitest'
import { ProxyError } from '../errors'
import { countAnthropicTokens, parseAnthropicRequest } from './anthropic-request'

const base = { model: 'claude-haiku-4-5', max_tokens: 256 }

describe('parseAnthropicRequest', () => {
  it('translates system blocks, signed thinking, tool_use, tool_result and text in order', () => {
    const { request, stream } = parseAnthropicRequest({
      ...base,
      stream: true,
      system: [
        { type: 'text', text: 'Be brief.', cache_control: { type: 'ephemeral' } },
        { type: 'text', text: 'Use tools.' },
      ],
      messages: [
        { role: 'user', content: 'Weather in Zürich?' },
        {
          role: 'assistant',
          content: [
            { type: 'thinking', thinking: 'Call it.', signature: 'EqQB' },
            { type: 'text', text: 'Checking.' },
            { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Zürich' } },
          ],
        },
        {
          role: 'user',
          content: [
            {
              type: 'tool_result',
              tool_use_id: 'toolu_1',
              content: [{ type: 'text', text: '21 °C' }],
            },
            { type: 'text', text: 'And tomorrow?' },
          ],
        },
      ],
      tools: [{ name: 'get_weather', input_schema: { type: 'object' }, cache_control: {} }],
      thinking: { type: 'enabled', budget_tokens: 2048 },
      temperature: 0.5,
      stop_sequences: ['END'],
      metadata: { user_id: 'u1' },
      tool_choice: { type: 'auto' },
    })
    expect(stream).toBe(true)
    expect(request).toEqual({
      model: 'claude-haiku-4-5',
      messages: [
        { role: 'system', content: 'Be brief.\n\nUse tools.' },
        { role: 'user', content: 'Weather in Zürich?' },
        {
          role: 'assistant',
          content: 'Checking.',
          toolCalls: [{ id: 'toolu_1', name: 'get_weather', arguments: '{"city":"Zürich"}' }],
          reasoning: [{ type: 'thinking', thinking: 'Call it.', signature: 'EqQB' }],
        },
        { role: 'tool', toolCallId: 'toolu_1', content: '21 °C' },
        { role: 'user', content: 'And tomorrow?' },
      ],
      tools: [{ name: 'get_weather', description: undefined, parameters: { type: 'object' } }],
      reasoning: true,
      maxTokens: 256,
      temperature: 0.5,
      stop: ['END'],
    })
  })

  it('drops thinking without a signature (another upstream wrote it) and keeps redacted thinking', () => {
    const { request } = parseAnthropicRequest({
      ...base,
      messages: [
        { role: 'user', content: 'Hi' },
        {
          role: 'assistant',
          content: [
            { type: 'thinking', thinking: 'Unsigned.', signature: '' },
            { type: 'redacted_thinking', data: 'EmwKAhgB' },
            { type: 'text', text: 'Hello.' },
          ],
        },
      ],
    })
    expect(request.messages[1]).toEqual({
      role: 'assistant',
      content: 'Hello.',
      reasoning: [{ type: 'redacted_thinking', data: 'EmwKAhgB' }],
    })
  })

  it('answers one message unless stream is true, as the API does', () => {
    const body = { ...base, messages: [{ role: 'user', content: 'Hi' }] }
    expect(parseAnthropicRequest(body).stream).toBe(false)
    expect(
      parseAnthropicRequest({ ...body, thinking: { type: 'disabled' } }).request.reasoning,
    ).toBe(false)
  })

  it.each([
    ['no max_tokens', { model: 'm', messages: [{ role: 'user', content: 'x' }] }, /^max_tokens: /],
    ['no messages', { ...base, messages: [] }, /^messages: /],
    [
      'a system role in messages',
      { ...base, messages: [{ role: 'system', content: 'x' }] },
      /^messages\[0\]\.role: /,
    ],
    [
      'an image block',
      {
        ...base,
        messages: [
          { role: 'user', content: [{ type: 'image', source: { type: 'base64', data: 'AA' } }] },
        ],
      },
      /^messages\[0\]\.content\[0\]\.type: a block of type text, tool_use, tool_result/,
    ],
    [
      'a server tool',
      {
        ...base,
        messages: [{ role: 'user', content: 'x' }],
        tools: [{ type: 'web_search_20250305', name: 'web_search' }],
      },
      /^tools\[0\]\.input_schema: a JSON Schema object/,
    ],
    [
      'a temperature above 1',
      { ...base, messages: [{ role: 'user', content: 'x' }], temperature: 1.5 },
      /^temperature: /,
    ],
  ])('refuses %s with invalid-request naming the field', (_, body, message) => {
    expect(() => parseAnthropicRequest(body)).toThrow(ProxyError)
    expect(() => parseAnthropicRequest(body)).toThrow(message)
  })
})

describe('countAnthropicTokens', () => {
  it('counts messages and tool definitions, without needing max_tokens', () => {
    const messages = [{ role: 'user', content: 'Hello there, how are you?' }]
    const plain = countAnthropicTokens({ model: 'm', messages })
    const withTools = countAnthropicTokens({
      model: 'm',
      messages,
      tools: [{ name: 'get_weather', input_schema: { type: 'object' } }],
    })
    // 4 framing tokens + 25 ASCII characters / 4.
    expect(plain).toBe(4 + 7)
    expect(withTools).toBeGreaterThan(plain)
  })
})
