// Test support for the Anthropic-compatible endpoint: the official SDK pointed at a test proxy,
// and a reader of its raw event stream that says how the stream ended.
import Anthropic, { type ClientOptions } from '@anthropic-ai/sdk'
import type { RunningProxy } from '../server'
import { directFetch } from '../test-proxy'

/** The `@anthropic-ai/sdk` client of `proxy` over the real socket; it retries nothing unless `options` say. */
export const anthropicClient = (proxy: RunningProxy, options: ClientOptions = {}): Anthropic =>
  new Anthropic({
    baseURL: proxy.url,
    apiKey: 'unused',
    fetch: directFetch,
    maxRetries: 0,
    ...options,
  })

/**
 * A raw Messages event stream's text, whether it saw message_stop, and what it threw (`undefined`
 * if it ended); `onText` runs once, at the first text, while the stream is still open.
 */
export async function readMessages(
  stream: AsyncIterable<Anthropic.RawMessageStreamEvent>,
  onText?: () => Promise<unknown>,
): Promise<{ text: string; stopped: boolean; error: unknown }> {
  let text = ''
  let stopped = false
  try {
    for await (const event of stream) {
      stopped ||= event.type === 'message_stop'
      if (event.type !== 'content_block_delta' || event.delta.type !== 'text_delta') continue
      const first = text === ''
      text += event.delta.text
      if (first) await onText?.()
    }
    return { text, stopped, error: undefined }
  } catch (error) {
    return { text, stopped, error }
  }
}
