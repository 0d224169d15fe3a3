// How a stream's normalised output becomes log events. The native endpoint writes protocol v1
// events; the OpenAI- and Anthropic-compatible endpoints will write their own formats from the
// same output, so each format is one file behind this interface.
import type { EventInput } from '@unbroken/server'
import type { UpstreamKind } from '../config'
import type { UpstreamEvent } from '../upstreams/upstream'

/** The first output of every stream, written before the upstream answers. */
export interface StartEvent {
  readonly type: 'start'
  readonly streamId: string
  readonly model: string
  readonly upstream: UpstreamKind
}

/** What a stream outputs: its start, then the upstream's normalised events. */
export type OutputEvent = StartEvent | UpstreamEvent

/**
 * Why a stream ended without finishing: a `ProxyError` (the upstream failed, a limit), or an
 * ending the registry made (a cancel, a shutdown's stop) that an SDK must see as an error.
 */
export interface StreamFailure {
  readonly code: string
  readonly message: string
  /** Whether the same request sent again may succeed. */
  readonly retryable: boolean
}

/** One wire format of the log's events. */
export interface StreamFormat {
  /** Log events for a batch of output, in order; a `finish` becomes the terminal event. */
  render(batch: readonly OutputEvent[]): EventInput[]
  /** The terminal event of a stream that failed. */
  fail(failure: StreamFailure): EventInput
  /**
   * Logged while the upstream is silent (a prefill), for formats whose clients expect an event
   * (Anthropic's `ping`); the others rely on the connection's keepalive comments.
   */
  readonly keepalive?: EventInput | undefined
}

/**
 * Adds `item` to a pending batch, appending text to text (and reasoning to reasoning) when they
 * are neighbours, so that a batch holds at most one delta per run however many chunks it spans.
 */
export function mergeOutput(pending: OutputEvent[], item: OutputEvent): void {
  const last = pending[pending.length - 1]
  if (last && (item.type === 'text' || item.type === 'reasoning') && last.type === item.type) {
    pending[pending.length - 1] = { type: item.type, text: last.text + item.text }
    return
  }
  pending.push(item)
}
