// Ollama's native `/api/chat`: NDJSON, one object per line. The end marker is `"done": true`
// (with the counts); a mid-stream failure is a `{"error": "…"}` line and then the end of the body.
// Tool calls arrive whole, with arguments as an object, sometimes only in the final line.
import { ProxyError } from '../errors'
import type { GenerationRequest, Message } from '../request'
import { decodeLines, postStream } from './http'
import type { HttpUpstreamOptions } from './openai'
import type { FinishReason, Upstream } from './upstream'

interface LineJson {
  error?: unknown
  message?: {
    content?: string
    thinking?: string
    tool_calls?: Array<{ id?: string; function?: { name?: string; arguments?: unknown } }>
  }
  done?: boolean
  done_reason?: string
  prompt_eval_count?: number
  eval_count?: number
}

export function createOllamaUpstream(options: HttpUpstreamOptions): Upstream {
  return {
    kind: 'ollama',
    defaultModel: options.defaultModel,
    stream(request, { signal, onOpen }) {
      const headers: Record<string, string> = {}
      if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`
      let calls = 0
      const open = async () => {
        const response = await postStream(
          `${options.baseUrl}/api/chat`,
          headers,
          toOllamaBody(request),
          /^application\/(x-)?ndjson|^application\/json/i,
          signal,
        )
        onOpen?.()
        return response
      }
      return decodeLines(open, signal, (line, out) => {
        const json = parseLine(line)
        if (json.error !== undefined) {
          const detail = typeof json.error === 'string' ? json.error : JSON.stringify(json.error)
          throw new ProxyError('upstream-error', `The upstream failed mid-stream: ${detail}`, {
            retryable: true,
          })
        }
        const message = json.message ?? {}
        if (message.thinking) out.push({ type: 'reasoning', text: message.thinking })
        if (message.content) out.push({ type: 'text', text: message.content })
        for (const call of message.tool_calls ?? []) {
          const args = call.function?.arguments
          out.push({
            type: 'tool-call',
            id: call.id ?? `call_${calls}`,
            name: call.function?.name ?? '',
            arguments: typeof args === 'string' ? args : JSON.stringify(args ?? {}),
          })
          calls += 1
        }
        if (json.done !== true) return false
        out.push(
          {
            type: 'usage',
            inputTokens: json.prompt_eval_count ?? 0,
            outputTokens: json.eval_count ?? 0,
          },
          { type: 'finish', reason: finishOf(json.done_reason, calls > 0) },
        )
        return true
      })
    },
  }
}

// Ollama says `stop` even when the turn ended in tool calls.
function finishOf(reason: string | undefined, calledTools: boolean): FinishReason {
  if (reason === 'length') return 'length'
  if (calledTools) return 'tool-calls'
  return reason === 'stop' || reason === undefined ? 'stop' : 'other'
}

/** The `/api/chat` request: sampling options under `options`, tool arguments as objects. */
export function toOllamaBody(request: GenerationRequest): Record<string, unknown> {
  const options = {
    ...(request.maxTokens !== undefined && { num_predict: request.maxTokens }),
    ...(request.temperature !== undefined && { temperature: request.temperature }),
    ...(request.seed !== undefined && { seed: request.seed }),
    ...(request.stop && { stop: request.stop }),
  }
  return {
    model: request.model,
    messages: request.messages.map(toOllamaMessage),
    stream: true,
    ...(request.tools && {
      tools: request.tools.map((tool) => ({
        type: 'function',
        function: { name: tool.name, description: tool.description, parameters: tool.parameters },
      })),
    }),
    ...(request.reasoning !== undefined && { think: request.reasoning }),
    ...(Object.keys(options).length > 0 && { options }),
  }
}

function toOllamaMessage(message: Message): Record<string, unknown> {
  if (message.role === 'assistant' && message.toolCalls?.length) {
    return {
      role: 'assistant',
      content: message.content,
      tool_calls: message.toolCalls.map((call) => ({
        // Valid JSON: the request schema checked it.
        function: { name: call.name, arguments: JSON.parse(call.arguments) },
      })),
    }
  }
  return { role: message.role, content: message.content }
}

function parseLine(line: string): LineJson {
  try {
    const json: unknown = JSON.parse(line)
    if (typeof json === 'object' && json !== null) return json as LineJson
  } catch {}
  throw new ProxyError(
    'upstream-error',
    `The upstream sent a line that is not JSON: ${line.slice(0, 200)}`,
    { retryable: false },
  )
}
