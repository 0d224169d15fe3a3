// Test support for the OpenAI-compatible endpoint: requests to it, and a reader of its stream that
// is independent of the proxy's own code (it assembles chunks as the SDKs do).
import type { SseEvent } from '@unbroken/test-kit'
import { type HttpHandler, HttpResponse, http } from 'msw'
import OpenAI, { type ClientOptions } from 'openai'
import type { RunningProxy } from '../server'
import { directFetch } from '../test-proxy'
import { dataBlocks, MOCK_BASE_URLS } from '../upstreams/fixtures/fixture'
import { UPSTREAM_PATHS } from '../upstreams/fixtures/mock'

/** The `openai` SDK pointed at `proxy` over the real socket; it retries nothing unless `options` say. */
export const openAIClient = (proxy: RunningProxy, options: ClientOptions = {}): OpenAI =>
  new OpenAI({
    baseURL: `${proxy.url}/v1`,
    apiKey: 'unused',
    fetch: directFetch,
    maxRetries: 0,
    ...options,
  })

/** POSTs a chat-completions body (an object, or raw text); `headers` add to the JSON type. */
export function postChat(
  proxy: RunningProxy,
  body: object | string,
  headers: Record<string, string> = {},
): Promise<Response> {
  return directFetch(`${proxy.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })
}

/** What a chat-completion stream said, assembled. */
export interface ChatOutcome {
  text: string
  reasoning: string
  toolCalls: Array<{ id: string; name: string; arguments: string }>
  finishReason: string | undefined
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number } | undefined
  /** The stream's last event was `[DONE]`. */
  done: boolean
  /** The error chunk's `error`, when the stream ended with one. */
  error: { message: string; type: string; code: string } | undefined
}

/** Assembles a chat-completion stream's events; throws on anything after `[DONE]` or the error. */
export function assembleChunks(events: readonly SseEvent[]): ChatOutcome {
  const outcome: ChatOutcome = {
    text: '',
    reasoning: '',
    toolCalls: [],
    finishReason: undefined,
    usage: undefined,
    done: false,
    error: undefined,
  }
  for (const event of events) {
    if (outcome.done || outcome.error) throw new Error(`an event after the end: ${event.data}`)
    if (event.data === '[DONE]') {
      outcome.done = true
      continue
    }
    const json = JSON.parse(event.data)
    if (json.error) {
      outcome.error = json.error
      continue
    }
    outcome.usage = json.usage ?? outcome.usage
    for (const { delta, finish_reason } of json.choices) {
      outcome.text += delta.content ?? ''
      outcome.reasoning += delta.reasoning_content ?? ''
      for (const call of delta.tool_calls ?? []) {
        const known = outcome.toolCalls[call.index]
        if (known) known.arguments += call.function.arguments ?? ''
        else
          outcome.toolCalls[call.index] = {
            id: call.id,
            name: call.function.name,
            arguments: call.function.arguments ?? '',
          }
      }
      outcome.finishReason = finish_reason ?? outcome.finishReason
    }
  }
  return outcome
}

/**
 * The text an `openai` SDK chunk stream delivered, and what it threw (`undefined` if it ended);
 * `onText` runs once, at the first text, while the stream is still open.
 */
export async function readText(
  stream: AsyncIterable<OpenAI.ChatCompletionChunk>,
  onText?: () => Promise<unknown>,
): Promise<{ text: string; error: unknown }> {
  let text = ''
  try {
    for await (const chunk of stream) {
      const first = text === ''
      text += chunk.choices[0]?.delta.content ?? ''
      if (first && text !== '') await onText?.()
    }
    return { text, error: undefined }
  } catch (error) {
    return { text, error }
  }
}

/**
 * An OpenAI-compatible upstream (for msw) that answers `text` in chunks of 64 KiB, fast: more
 * than loopback buffers absorb (about 4 MB for a client that stops reading, measured) makes the
 * proxy wait for its client. The end (finish and `[DONE]`) waits for `endAfter`.
 */
export function bulkAnswer(text: string, endAfter?: Promise<void>): HttpHandler {
  const size = 64 * 1024
  return http.post(`${MOCK_BASE_URLS.openai}${UPSTREAM_PATHS.openai}`, () => {
    const blocks = Array.from({ length: Math.ceil(text.length / size) }, (_, i) =>
      dataBlocks({
        choices: [{ index: 0, delta: { content: text.slice(i * size, (i + 1) * size) } }],
      }),
    )
    blocks.push(dataBlocks({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }, '[DONE]'))
    const encoder = new TextEncoder()
    const body = new ReadableStream<Uint8Array>(
      {
        async pull(controller) {
          const block = blocks.shift()
          if (block === undefined) return controller.close()
          if (blocks.length === 0) await endAfter
          controller.enqueue(encoder.encode(block))
        },
      },
      { highWaterMark: 0 },
    )
    return new HttpResponse(body, { headers: { 'content-type': 'text/event-stream' } })
  })
}
