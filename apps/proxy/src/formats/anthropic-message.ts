// The non-streaming answer of `POST /v1/messages`: one Message object, as the API returns it,
// folded from the same normalised output the streaming format renders.
import { ProxyError } from '../errors'
import type { UpstreamEvent } from '../upstreams/upstream'
import { formatUsage, messageId, STOP_REASONS } from './anthropic'

type ContentBlock =
  | { type: 'thinking'; thinking: string; signature: string }
  | { type: 'text'; text: string }
  | { type: 'tool_use'; id: string; name: string; input: unknown }

/** Accumulates one generation's events into a Message; `result()` once it finished. */
export function createMessageCollector(streamId: string, model: string, inputTokens: number) {
  const content: ContentBlock[] = []
  let usage = { inputTokens, outputTokens: 0 }
  let stopReason: string | undefined

  const add = (event: UpstreamEvent) => {
    const last = content[content.length - 1]
    switch (event.type) {
      case 'text':
        if (last?.type === 'text') last.text += event.text
        else content.push({ type: 'text', text: event.text })
        return
      case 'reasoning':
        if (last?.type === 'thinking') last.thinking += event.text
        else content.push({ type: 'thinking', thinking: event.text, signature: '' })
        return
      case 'reasoning-signature':
        if (last?.type === 'thinking') last.signature = event.signature
        return
      case 'tool-call':
        content.push({ type: 'tool_use', id: event.id, name: event.name, input: parseInput(event) })
        return
      case 'usage':
        usage = event
        return
      case 'finish':
        stopReason = STOP_REASONS[event.reason]
        return
    }
  }

  return {
    add,
    /** The Message; only after a `finish` (a generation that failed has none). */
    result: () => ({
      id: messageId(streamId),
      type: 'message',
      role: 'assistant',
      model,
      content,
      stop_reason: stopReason ?? null,
      stop_sequence: null,
      usage: formatUsage(usage.inputTokens, usage.outputTokens),
    }),
  }
}

/** A tool call's input as the object the API returns; arguments that are not one fail the answer. */
function parseInput(call: Extract<UpstreamEvent, { type: 'tool-call' }>): unknown {
  try {
    const input: unknown = JSON.parse(call.arguments)
    if (typeof input === 'object' && input !== null && !Array.isArray(input)) return input
  } catch {}
  throw new ProxyError(
    'upstream-error',
    `The upstream's arguments for tool ${call.name} are not a JSON object: ${call.arguments.slice(0, 200)}`,
  )
}
