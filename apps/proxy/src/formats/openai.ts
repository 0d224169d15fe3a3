// OpenAI chat-completion chunks (the API reference's "chat completion chunk object"), the wire
// format of `POST /v1/chat/completions` with `stream: true`. Each chunk is a plain `data:` event;
// the end marker `[DONE]` and the error chunk are named `done` and `error` because the registry ends
// a stream on those names (and @unbroken/client stops on them). The SDKs check `[DONE]` before the
// event name and throw on an error chunk, so the names change nothing for them.
import type { EventInput } from '@unbroken/server'
import { STATUS } from '../errors'
import type { FinishReason } from '../upstreams/upstream'
import type { OutputEvent, StreamFormat } from './format'
import { openAIErrorBody } from './openai-errors'

/** Per-request facts every chunk repeats. */
export interface OpenAIFormatOptions {
  /** Seconds since the epoch, the same in every chunk. */
  readonly created: number
  /** `stream_options.include_usage`: every chunk gets `usage: null`, and a usage chunk ends it. */
  readonly includeUsage: boolean
}

/** `finish_reason` values; a reason OpenAI has no word for ends as a plain `stop`. */
export const OPENAI_FINISH: Readonly<Record<FinishReason, string>> = {
  stop: 'stop',
  length: 'length',
  'tool-calls': 'tool_calls',
  'content-filter': 'content_filter',
  other: 'stop',
}

/** The `id` of a completion: the stream id, so a completion names the stream that holds it. */
export const completionId = (streamId: string): string => `chatcmpl-${streamId}`

/**
 * The status a failure's code answers with before a stream, which types its error chunk; the
 * registry's own endings (a cancel, a shutdown's stop) are the server's doing.
 */
const STATUS_OF_CODE: ReadonlyMap<string, number> = new Map(Object.entries(STATUS))
const statusOf = (code: string): number => STATUS_OF_CODE.get(code) ?? 500

/** A stream format writing chat-completion chunks; one per stream (it numbers tool calls). */
export function createOpenAIFormat(options: OpenAIFormatOptions): StreamFormat {
  let head = { id: '', object: 'chat.completion.chunk', created: options.created, model: '' }
  let toolCalls = 0
  let usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number } | undefined
  // What every chunk has around its delta, serialised once per stream, not per token: the same
  // text as `JSON.stringify({ ...head, choices: [{ index, delta, logprobs, finish_reason }],
  // usage })`, without building and walking that envelope for every token.
  let before = ''
  const after = `}]${options.includeUsage ? ',"usage":null' : ''}}`
  const setHead = (next: typeof head) => {
    head = next
    before = `${JSON.stringify(head).slice(0, -1)},"choices":[{"index":0,"delta":`
  }
  setHead(head)

  const chunk = (delta: object, finishReason: string | null = null): EventInput => ({
    data: `${before}${JSON.stringify(delta)},"logprobs":null,"finish_reason":${JSON.stringify(finishReason)}${after}`,
  })

  const render = (item: OutputEvent): EventInput[] => {
    switch (item.type) {
      case 'start':
        setHead({ ...head, id: completionId(item.streamId), model: item.model })
        return [chunk({ role: 'assistant', content: '' })]
      case 'text':
        return [chunk({ content: item.text })]
      case 'reasoning':
        // DeepSeek's field, which LiteLLM and most OpenAI-compatible clients read.
        return [chunk({ reasoning_content: item.text })]
      case 'tool-call':
        return [
          chunk({
            tool_calls: [
              {
                index: toolCalls++,
                id: item.id,
                type: 'function',
                function: { name: item.name, arguments: item.arguments },
              },
            ],
          }),
        ]
      case 'reasoning-signature':
        // Chat completions have no field for it: dropped (the README's table says so).
        return []
      case 'usage':
        usage = {
          prompt_tokens: item.inputTokens,
          completion_tokens: item.outputTokens,
          total_tokens: item.inputTokens + item.outputTokens,
        }
        return []
      case 'finish':
        return [
          chunk({}, OPENAI_FINISH[item.reason]),
          ...(options.includeUsage && usage
            ? [{ data: JSON.stringify({ ...head, choices: [], usage }) }]
            : []),
          { event: 'done', data: '[DONE]' },
        ]
    }
  }

  return {
    render: (batch) => batch.flatMap(render),
    fail: ({ code, message }) => ({
      event: 'error',
      data: JSON.stringify(openAIErrorBody(code, message, statusOf(code))),
    }),
  }
}
