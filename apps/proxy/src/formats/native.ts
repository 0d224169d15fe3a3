// Protocol v1 LLM events (DESIGN §4), the native endpoint's format: `meta`, `delta`, `tool-call`,
// `usage`, then `done` or `error`.
import type { EventInput } from '@unbroken/server'
import type { OutputEvent, StreamFormat } from './format'

const event = (name: string, data: unknown): EventInput => ({
  event: name,
  data: JSON.stringify(data),
})

/** Renders output as v1 events; each delta carries one merged run of text or reasoning. */
export const nativeFormat: StreamFormat = {
  // Protocol v1 has no field for a reasoning signature.
  render: (batch) =>
    batch.flatMap((item) => (item.type === 'reasoning-signature' ? [] : [renderEvent(item)])),
  // Final: the stream is over and a resume would replay this event, so `retryable` (protocol v1:
  // resume this stream) is false whatever the code; the code says whether a new request may help.
  fail: ({ code, message }) => event('error', { code, message, retryable: false }),
}

function renderEvent(item: Exclude<OutputEvent, { type: 'reasoning-signature' }>): EventInput {
  switch (item.type) {
    case 'start':
      return event('meta', {
        streamId: item.streamId,
        model: item.model,
        upstream: item.upstream,
      })
    case 'text':
      return event('delta', { text: item.text })
    case 'reasoning':
      return event('delta', { reasoning: item.text })
    case 'tool-call':
      return event('tool-call', { id: item.id, name: item.name, arguments: item.arguments })
    case 'usage':
      return event('usage', {
        inputTokens: item.inputTokens,
        outputTokens: item.outputTokens,
        ...(item.estimated && { estimated: true }),
      })
    case 'finish':
      return event('done', { finishReason: item.reason })
  }
}
