// Anthropic Messages streaming events (the API's "Streaming Messages"), the format of
// `POST /v1/messages`: message_start, then content blocks (text, thinking, tool_use with one
// input_json_delta), message_delta with stop_reason and usage, message_stop. A failure is the
// API's own `event: error`, which the SDKs throw; never a message_stop after partial output.
import type { EventInput } from '@unbroken/server'
import type { FinishReason, UpstreamEvent } from '../upstreams/upstream'
import type { OutputEvent, StreamFailure, StreamFormat } from './format'

/** The stop reasons of the Messages API, from ours. */
export const STOP_REASONS: Readonly<Record<FinishReason, string>> = {
  stop: 'end_turn',
  length: 'max_tokens',
  'tool-calls': 'tool_use',
  'content-filter': 'refusal',
  // Nothing closer exists; the turn did end.
  other: 'end_turn',
}

/** The Messages API's `ping`: sent while the upstream is silent, ignored by every client. */
export const PING: EventInput = { event: 'ping', data: '{"type":"ping"}' }

/**
 * The stream's terminal event, after message_stop: the registry ends a stream on `done`, and
 * `@unbroken/client` stops reading there. The SDKs skip an event name they do not know, but hand
 * its data to raw iterators, which skip a `ping` as they must (the API's documented keepalive).
 */
export const STREAM_END: EventInput = { event: 'done', data: PING.data }

/** The message id a stream's messages carry: the stream's, so that logs and clients agree. */
export const messageId = (streamId: string): string => `msg_${streamId}`

/** The `usage` object of a message, with the prompt-cache fields the API always includes. */
export function formatUsage(inputTokens: number, outputTokens: number) {
  return {
    input_tokens: inputTokens,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
    output_tokens: outputTokens,
  }
}

/**
 * The error body the API sends in `event: error` and with an HTTP error status. In a stream, the
 * types are the two the API uses for failures after the response began: overloaded_error for what
 * a new request may fix, api_error for the rest.
 */
export function formatErrorBody(type: string, message: string): string {
  return JSON.stringify({ type: 'error', error: { type, message } })
}

const event = (name: string, data: object): EventInput => ({
  event: name,
  data: JSON.stringify({ type: name, ...data }),
})

type Usage = Extract<UpstreamEvent, { type: 'usage' }>

/**
 * A renderer for one stream: it numbers content blocks and knows which one is open, so each
 * stream needs its own. `inputTokens` is the prompt estimate that message_start reports before
 * the upstream has said anything; message_delta carries the upstream's own count at the end.
 */
export function createAnthropicFormat(options: { readonly inputTokens: number }): StreamFormat {
  let index = -1
  let open: 'text' | 'thinking' | undefined
  let usage: Usage = { type: 'usage', inputTokens: options.inputTokens, outputTokens: 0 }

  const closeBlock = (out: EventInput[]) => {
    if (open !== undefined) out.push(event('content_block_stop', { index }))
    open = undefined
  }
  const startBlock = (out: EventInput[], block: object) => {
    closeBlock(out)
    index += 1
    out.push(event('content_block_start', { index, content_block: block }))
  }

  const render = (item: OutputEvent, out: EventInput[]) => {
    switch (item.type) {
      case 'start':
        out.push(
          event('message_start', {
            message: {
              id: messageId(item.streamId),
              type: 'message',
              role: 'assistant',
              model: item.model,
              content: [],
              stop_reason: null,
              stop_sequence: null,
              usage: formatUsage(options.inputTokens, 0),
            },
          }),
          PING,
        )
        return
      case 'reasoning':
        if (open !== 'thinking') {
          startBlock(out, { type: 'thinking', thinking: '', signature: '' })
          open = 'thinking'
        }
        out.push(
          event('content_block_delta', {
            index,
            delta: { type: 'thinking_delta', thinking: item.text },
          }),
        )
        return
      case 'reasoning-signature':
        // The API sends it last in its thinking block, before content_block_stop.
        if (open === 'thinking') {
          out.push(
            event('content_block_delta', {
              index,
              delta: { type: 'signature_delta', signature: item.signature },
            }),
          )
        }
        return
      case 'text':
        if (open !== 'text') {
          startBlock(out, { type: 'text', text: '' })
          open = 'text'
        }
        out.push(
          event('content_block_delta', { index, delta: { type: 'text_delta', text: item.text } }),
        )
        return
      case 'tool-call':
        // Our tool calls arrive complete, so the input goes out as one input_json_delta.
        startBlock(out, { type: 'tool_use', id: item.id, name: item.name, input: {} })
        out.push(
          event('content_block_delta', {
            index,
            delta: { type: 'input_json_delta', partial_json: item.arguments },
          }),
          event('content_block_stop', { index }),
        )
        return
      case 'usage':
        usage = item
        return
      case 'finish':
        closeBlock(out)
        out.push(
          event('message_delta', {
            delta: { stop_reason: STOP_REASONS[item.reason], stop_sequence: null },
            usage: { input_tokens: usage.inputTokens, output_tokens: usage.outputTokens },
          }),
          event('message_stop', {}),
          STREAM_END,
        )
        return
    }
  }

  return {
    keepalive: PING,
    render(batch) {
      const out: EventInput[] = []
      for (const item of batch) render(item, out)
      return out
    },
    fail: (failure: StreamFailure) => ({
      event: 'error',
      data: formatErrorBody(failure.retryable ? 'overloaded_error' : 'api_error', failure.message),
    }),
  }
}
