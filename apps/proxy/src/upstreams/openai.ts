// Any OpenAI-compatible chat-completions stream: OpenAI, vLLM, llama.cpp, LM Studio, OpenRouter,
// Ollama's /v1. The end marker is `data: [DONE]`, but `[DONE]` alone is not success: vLLM sends
// it after an error frame, so an error frame ends the stream first.
import { ProxyError } from '../errors'
import type { GenerationRequest, Message } from '../request'
import { decodeEvents, postStream } from './http'
import type { FinishReason, Upstream, UpstreamEvent } from './upstream'

/** Where the upstream is and how to sign in. */
export interface HttpUpstreamOptions {
  /** Base URL, e.g. `https://api.openai.com/v1` (OpenAI-compatible) or `https://api.anthropic.com`. */
  readonly baseUrl: string
  readonly apiKey?: string | undefined
  /** The model used when a request names none. */
  readonly defaultModel: string
}

interface ChunkJson {
  error?: unknown
  choices?: Array<{
    delta?: {
      content?: string | null
      reasoning?: string | null
      reasoning_content?: string | null
      tool_calls?: Array<{
        index?: number
        id?: string
        function?: { name?: string; arguments?: string }
      }>
    }
    finish_reason?: string | null
  }> | null
  usage?: { prompt_tokens?: number; completion_tokens?: number } | null
}

const FINISH: Record<string, FinishReason> = {
  stop: 'stop',
  length: 'length',
  tool_calls: 'tool-calls',
  function_call: 'tool-calls',
  content_filter: 'content-filter',
}

export function createOpenAIUpstream(options: HttpUpstreamOptions): Upstream {
  return {
    kind: 'openai',
    defaultModel: options.defaultModel,
    stream(request, { signal, onOpen }) {
      const headers: Record<string, string> = { accept: 'text/event-stream' }
      if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`
      // Tool calls arrive as fragments keyed by `index`; the first fragment has the id and name.
      const calls = new Map<number, { id: string; name: string; arguments: string }>()
      const completeCalls = (out: UpstreamEvent[]) => {
        for (const [index, call] of [...calls].sort(([a], [b]) => a - b)) {
          const { name, arguments: args } = call
          out.push({ type: 'tool-call', id: call.id || `call_${index}`, name, arguments: args })
        }
        calls.clear()
      }
      let finish: FinishReason | undefined
      const open = async () => {
        const response = await postStream(
          `${options.baseUrl}/chat/completions`,
          headers,
          toOpenAIBody(request),
          /^text\/event-stream/i,
          signal,
        )
        onOpen?.()
        return response
      }
      return decodeEvents(open, signal, (event, out) => {
        if (event.data === '[DONE]') {
          completeCalls(out)
          out.push({ type: 'finish', reason: finish ?? 'stop' })
          return true
        }
        const json = parseChunk(event.data)
        if (json.error !== undefined) throw inStreamError(json.error)
        for (const choice of json.choices ?? []) {
          const delta = choice.delta ?? {}
          const reasoning = delta.reasoning ?? delta.reasoning_content
          if (reasoning) out.push({ type: 'reasoning', text: reasoning })
          if (delta.content) out.push({ type: 'text', text: delta.content })
          for (const fragment of delta.tool_calls ?? []) {
            const index = fragment.index ?? 0
            const call = calls.get(index) ?? { id: '', name: '', arguments: '' }
            call.id ||= fragment.id ?? ''
            call.name ||= fragment.function?.name ?? ''
            call.arguments += fragment.function?.arguments ?? ''
            calls.set(index, call)
          }
          if (choice.finish_reason === 'error') {
            // OpenRouter: a provider failed after tokens were sent; the error is on the chunk.
            throw inStreamError(json.error ?? 'The upstream finished with an error.')
          }
          if (choice.finish_reason) {
            finish = FINISH[choice.finish_reason] ?? 'other'
            completeCalls(out)
          }
        }
        if (json.usage) {
          out.push({
            type: 'usage',
            inputTokens: json.usage.prompt_tokens ?? 0,
            outputTokens: json.usage.completion_tokens ?? 0,
          })
        }
        return false
      })
    },
  }
}

/** The chat-completions request; `include_usage` so that usage arrives before `[DONE]`. */
export function toOpenAIBody(request: GenerationRequest): Record<string, unknown> {
  return {
    model: request.model,
    messages: request.messages.map(toOpenAIMessage),
    stream: true,
    stream_options: { include_usage: true },
    ...(request.tools && {
      tools: request.tools.map((tool) => ({
        type: 'function',
        function: { name: tool.name, description: tool.description, parameters: tool.parameters },
      })),
    }),
    ...(request.maxTokens !== undefined && { max_tokens: request.maxTokens }),
    ...(request.temperature !== undefined && { temperature: request.temperature }),
    ...(request.seed !== undefined && { seed: request.seed }),
    ...(request.stop && { stop: request.stop }),
  }
}

function toOpenAIMessage(message: Message): Record<string, unknown> {
  switch (message.role) {
    case 'tool':
      return { role: 'tool', tool_call_id: message.toolCallId, content: message.content }
    case 'assistant':
      return {
        role: 'assistant',
        content: message.content,
        ...(message.toolCalls?.length && {
          tool_calls: message.toolCalls.map((call) => ({
            id: call.id,
            type: 'function',
            function: { name: call.name, arguments: call.arguments },
          })),
        }),
      }
    default:
      return { role: message.role, content: message.content }
  }
}

function parseChunk(data: string): ChunkJson {
  try {
    const json: unknown = JSON.parse(data)
    if (typeof json === 'object' && json !== null) return json as ChunkJson
  } catch {}
  throw new ProxyError(
    'upstream-error',
    `The upstream sent data that is not a chat-completion chunk: ${data.slice(0, 200)}`,
    { retryable: false },
  )
}

/**
 * An error frame: `{"error":{"message","type","code"}}` (OpenAI, vLLM, llama.cpp, OpenRouter).
 * Server-side failures are worth retrying; a refused request is not.
 */
function inStreamError(error: unknown): ProxyError {
  const detail = typeof error === 'string' ? { message: error } : (error as Record<string, unknown>)
  const message = typeof detail?.message === 'string' ? detail.message : JSON.stringify(error)
  const kind = `${detail?.type ?? ''} ${detail?.code ?? ''}`
  const refused = /invalid|not_found|unsupported|content_filter|context_length|4\d\d/.test(kind)
  return new ProxyError('upstream-error', `The upstream failed mid-stream: ${message}`, {
    retryable: !refused,
  })
}
