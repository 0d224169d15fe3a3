// Anthropic Messages streaming: message_start → content blocks (text, thinking, tool_use with
// input_json_delta) → message_delta (stop reason, cumulative usage) → message_stop, which is the
// end marker. `ping` may come anywhere; `error` (e.g. overloaded_error) ends the stream.
import { ProxyError } from '../errors'
import type { GenerationRequest, Message } from '../request'
import { decodeEvents, postStream } from './http'
import type { HttpUpstreamOptions } from './openai'
import type { FinishReason, Upstream } from './upstream'

/** The API version whose streaming events this adapter reads. */
const ANTHROPIC_VERSION = '2023-06-01'
/** Anthropic requires `max_tokens`; this is the default when a request gives none. */
const DEFAULT_MAX_TOKENS = 4096
/** Thinking budget when a request asks for reasoning (the API's minimum is 1024). */
const THINKING_BUDGET = 1024

const STOP: Record<string, FinishReason> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  max_tokens: 'length',
  tool_use: 'tool-calls',
  refusal: 'content-filter',
}

// Error types after which the same request can succeed (the API's own retry guidance).
const TRANSIENT = new Set(['overloaded_error', 'api_error', 'rate_limit_error', 'timeout_error'])

interface Usage {
  input_tokens?: number
  output_tokens?: number
  cache_creation_input_tokens?: number | null
  cache_read_input_tokens?: number | null
}

interface EventJson {
  type?: string
  index?: number
  message?: { usage?: Usage }
  content_block?: { type?: string; id?: string; name?: string; text?: string }
  delta?: {
    type?: string
    text?: string
    thinking?: string
    signature?: string
    partial_json?: string
    stop_reason?: string | null
  }
  usage?: Usage
  error?: { type?: string; message?: string }
}

export function createAnthropicUpstream(options: HttpUpstreamOptions): Upstream {
  return {
    kind: 'anthropic',
    defaultModel: options.defaultModel,
    stream(request, { signal, onOpen }) {
      const headers: Record<string, string> = {
        accept: 'text/event-stream',
        'anthropic-version': ANTHROPIC_VERSION,
      }
      if (options.apiKey) headers['x-api-key'] = options.apiKey
      const toolBlocks = new Map<number, { id: string; name: string; json: string }>()
      let inputTokens = 0
      let outputTokens = 0
      let finish: FinishReason = 'stop'
      const open = async () => {
        const response = await postStream(
          `${options.baseUrl}/v1/messages`,
          headers,
          toAnthropicBody(request),
          /^text\/event-stream/i,
          signal,
        )
        onOpen?.()
        return response
      }
      return decodeEvents(open, signal, (event, out) => {
        const json = parseEvent(event.data)
        switch (json.type ?? event.type) {
          case 'message_start': {
            const usage = json.message?.usage ?? {}
            // Cached prompt tokens are still prompt tokens; the API reports them apart.
            inputTokens =
              (usage.input_tokens ?? 0) +
              (usage.cache_creation_input_tokens ?? 0) +
              (usage.cache_read_input_tokens ?? 0)
            outputTokens = usage.output_tokens ?? 0
            break
          }
          case 'content_block_start': {
            const block = json.content_block
            if (block?.type === 'tool_use') {
              toolBlocks.set(json.index ?? 0, {
                id: block.id ?? '',
                name: block.name ?? '',
                json: '',
              })
            } else if (block?.type === 'text' && block.text) {
              out.push({ type: 'text', text: block.text })
            }
            break
          }
          case 'content_block_delta': {
            const delta = json.delta
            if (delta?.type === 'text_delta' && delta.text) {
              out.push({ type: 'text', text: delta.text })
            } else if (delta?.type === 'thinking_delta' && delta.thinking) {
              out.push({ type: 'reasoning', text: delta.thinking })
            } else if (delta?.type === 'signature_delta' && delta.signature) {
              out.push({ type: 'reasoning-signature', signature: delta.signature })
            } else if (delta?.type === 'input_json_delta') {
              const block = toolBlocks.get(json.index ?? 0)
              if (block) block.json += delta.partial_json ?? ''
            }
            break
          }
          case 'content_block_stop': {
            const block = toolBlocks.get(json.index ?? 0)
            if (block) {
              // A tool with no parameters streams no input_json_delta at all: its input is {}.
              const { id, name } = block
              out.push({ type: 'tool-call', id, name, arguments: block.json || '{}' })
              toolBlocks.delete(json.index ?? 0)
            }
            break
          }
          case 'message_delta':
            if (json.delta?.stop_reason) finish = STOP[json.delta.stop_reason] ?? 'other'
            // Cumulative counts, not increments: the last one is the total.
            if (json.usage?.output_tokens !== undefined) outputTokens = json.usage.output_tokens
            break
          case 'message_stop':
            out.push(
              { type: 'usage', inputTokens, outputTokens },
              { type: 'finish', reason: finish },
            )
            return true
          case 'error': {
            const type = json.error?.type ?? 'error'
            throw new ProxyError(
              'upstream-error',
              `The upstream failed mid-stream: ${type}: ${json.error?.message ?? ''}`.trim(),
              { retryable: TRANSIENT.has(type) },
            )
          }
        }
        return false
      })
    },
  }
}

/** The Messages request: system prompts apart, tool results as user turns. */
export function toAnthropicBody(request: GenerationRequest): Record<string, unknown> {
  const system = request.messages
    .filter((message) => message.role === 'system')
    .map((message) => message.content)
    .join('\n\n')
  const maxTokens = request.maxTokens ?? DEFAULT_MAX_TOKENS
  return {
    model: request.model,
    max_tokens: request.reasoning ? Math.max(maxTokens, THINKING_BUDGET + 1) : maxTokens,
    stream: true,
    messages: toAnthropicMessages(request.messages),
    ...(system && { system }),
    ...(request.tools && {
      tools: request.tools.map((tool) => ({
        name: tool.name,
        description: tool.description,
        input_schema: tool.parameters,
      })),
    }),
    ...(request.reasoning && { thinking: { type: 'enabled', budget_tokens: THINKING_BUDGET } }),
    ...(request.temperature !== undefined && { temperature: Math.min(request.temperature, 1) }),
    ...(request.stop && { stop_sequences: request.stop }),
  }
}

type Block = Record<string, unknown>

function toAnthropicMessages(messages: readonly Message[]) {
  const out: Array<{ role: 'user' | 'assistant'; content: Block[] }> = []
  const add = (role: 'user' | 'assistant', block: Block) => {
    const last = out[out.length - 1]
    // The API wants user and assistant turns to alternate: consecutive blocks share one turn.
    if (last?.role === role) last.content.push(block)
    else out.push({ role, content: [block] })
  }
  for (const message of messages) {
    switch (message.role) {
      case 'system':
        break
      case 'user':
        add('user', { type: 'text', text: message.content })
        break
      case 'tool':
        add('user', {
          type: 'tool_result',
          tool_use_id: message.toolCallId,
          content: message.content,
        })
        break
      case 'assistant':
        // Signed reasoning first: with thinking on, the API checks it opens the assistant turn.
        for (const block of message.reasoning ?? []) add('assistant', { ...block })
        if (message.content) add('assistant', { type: 'text', text: message.content })
        for (const call of message.toolCalls ?? []) {
          add('assistant', {
            type: 'tool_use',
            id: call.id,
            name: call.name,
            // Valid JSON: the request schema checked it.
            input: JSON.parse(call.arguments),
          })
        }
        break
    }
  }
  return out
}

function parseEvent(data: string): EventJson {
  try {
    const json: unknown = JSON.parse(data)
    if (typeof json === 'object' && json !== null) return json as EventJson
  } catch {}
  throw new ProxyError(
    'upstream-error',
    `The upstream sent data that is not a Messages event: ${data.slice(0, 200)}`,
    { retryable: false },
  )
}
