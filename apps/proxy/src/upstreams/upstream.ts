// The one interface every upstream adapter implements, and the normalised events they all yield.
// An event means the same whatever produced it, so the endpoints that format events for clients
// (the native v1 events today; OpenAI and Anthropic formats next) never look at the upstream kind.
import type { UpstreamKind } from '../config'
import type { GenerationRequest } from '../request'
import type { Faults } from './faults'

/** Why a generation stopped, in the same words for every upstream. */
export type FinishReason = 'stop' | 'length' | 'tool-calls' | 'content-filter' | 'other'

/** What an upstream says, normalised. */
export type UpstreamEvent =
  /** Answer text; never split inside a character. */
  | { readonly type: 'text'; readonly text: string }
  /** Reasoning ("thinking") text, shown apart from the answer. */
  | { readonly type: 'reasoning'; readonly text: string }
  /**
   * The signature that closes a run of reasoning (Anthropic's thinking blocks): a later turn sends
   * it back with that reasoning, so the model can check it. Formats with no such field drop it.
   */
  | { readonly type: 'reasoning-signature'; readonly signature: string }
  /** One complete tool call; `arguments` is the JSON text the model wrote. */
  | {
      readonly type: 'tool-call'
      readonly id: string
      readonly name: string
      readonly arguments: string
    }
  /**
   * Token counts as the upstream reported them (totals, not increments), or as the proxy
   * estimated them (`estimated: true`) when the upstream reported none.
   */
  | {
      readonly type: 'usage'
      readonly inputTokens: number
      readonly outputTokens: number
      readonly estimated?: boolean | undefined
    }
  /** The end marker: the upstream finished normally. Nothing follows it. */
  | { readonly type: 'finish'; readonly reason: FinishReason }

/**
 * The events decoded from one upstream read (one network chunk, or one simulated tick). Keeping
 * them together lets the proxy write at most one `delta` per chunk without waiting for a timer.
 */
export type UpstreamChunk = readonly UpstreamEvent[]

/** Per-call inputs besides the request. */
export interface UpstreamCall {
  /** Aborts the upstream request: on `DELETE`, `--max-duration`, idle timeout or shutdown. */
  readonly signal: AbortSignal
  /** Simulated faults from `x-unbroken-fault`; only the simulated upstream honours them. */
  readonly faults?: Faults | undefined
  /**
   * Called once, when the upstream accepted the request (an HTTP upstream's answer head was a
   * stream), before any output: an error after it is a failure of the stream, not a refusal.
   */
  readonly onOpen?: (() => void) | undefined
}

/**
 * One upstream. `stream` yields chunks until the upstream's end marker, which it reports as a
 * `finish` event; an iteration that ends without one is a truncation, however it ended. Failures
 * are thrown as `ProxyError` with an `upstream-*` code.
 */
export interface Upstream {
  readonly kind: UpstreamKind
  /** The model used when a request names none. */
  readonly defaultModel: string
  stream(request: GenerationRequest, call: UpstreamCall): AsyncIterable<UpstreamChunk>
}
