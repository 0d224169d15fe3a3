/**
 * The protocol v1 LLM stream the React specs read (DESIGN §4): `meta`, one `delta` per token at a
 * steady rate, `usage`, then `done`. Tokens carry multi-byte text, so a cut can land inside a
 * character; the same index always gives the same token, so a spec knows the whole answer.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import type { Producer } from '@unbroken/server'

/** What a spec POSTs through `send(body)`. */
export type LLMAsk = {
  tokens: number
  /** Tokens per second. */
  rate: number
  prefillMs?: number
}

export const llmToken = (index: number) => `${index}·héllo😀 `

/** The text of a whole answer of `count` tokens. */
export const llmText = (count: number) =>
  Array.from({ length: count }, (_, index) => llmToken(index)).join('')

/** Sends `ask.tokens` deltas, `ask.rate` per second on average (due tokens go out every 5 ms). */
export const llmProducer =
  (ask: LLMAsk): Producer =>
  async (stream) => {
    const send = (event: string, data: unknown) =>
      stream.send({ event, data: JSON.stringify(data) })
    await send('meta', { streamId: stream.id, model: 'e2e', upstream: 'simulated' })
    if (ask.prefillMs) await sleep(ask.prefillMs)
    const started = performance.now()
    for (let sent = 0; sent < ask.tokens; ) {
      if (stream.signal.aborted) return
      const due = Math.min(ask.tokens, Math.ceil(((performance.now() - started) * ask.rate) / 1000))
      for (; sent < due; sent++) await send('delta', { text: llmToken(sent) })
      await sleep(5)
    }
    await send('usage', { inputTokens: 1, outputTokens: ask.tokens })
    await send('done', { finishReason: 'stop' })
  }
