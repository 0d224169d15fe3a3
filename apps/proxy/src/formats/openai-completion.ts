// The non-streaming answer of `POST /v1/chat/completions`: one chat completion object, as the API
// reference defines it, folded from the same normalised output the streaming format renders.
import type { UpstreamEvent } from '../upstreams/upstream'
import { completionId, OPENAI_FINISH } from './openai'

/** Accumulates one generation's events into a chat completion; `result()` once it finished. */
export function createCompletionCollector(id: string, model: string, created: number) {
  let content = ''
  let reasoning = ''
  const toolCalls: Array<{ id: string; type: 'function'; function: object }> = []
  let usage = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 }
  let finishReason: string | undefined

  const add = (event: UpstreamEvent) => {
    switch (event.type) {
      case 'text':
        content += event.text
        return
      case 'reasoning':
        reasoning += event.text
        return
      case 'tool-call':
        toolCalls.push({
          id: event.id,
          type: 'function',
          function: { name: event.name, arguments: event.arguments },
        })
        return
      case 'usage':
        usage = {
          prompt_tokens: event.inputTokens,
          completion_tokens: event.outputTokens,
          total_tokens: event.inputTokens + event.outputTokens,
        }
        return
      case 'finish':
        finishReason = OPENAI_FINISH[event.reason]
        return
    }
  }

  return {
    add,
    /** The completion; only after a `finish` (a generation that failed throws instead). */
    result: () => ({
      id: completionId(id),
      object: 'chat.completion',
      created,
      model,
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            // OpenAI's `null` content for an answer that is only tool calls.
            content: content === '' && toolCalls.length > 0 ? null : content,
            refusal: null,
            ...(reasoning !== '' && { reasoning_content: reasoning }),
            ...(toolCalls.length > 0 && { tool_calls: toolCalls }),
          },
          logprobs: null,
          finish_reason: finishReason ?? 'stop',
        },
      ],
      usage,
    }),
  }
}
