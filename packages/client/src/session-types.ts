import type { ServerSentEvent } from './parser'
import type { EventStreamOptions, EventStreamSnapshot, EventStreamStatus } from './types'

/**
 * What a stream session connects to: a URL to `GET`, or a request whose first attempt may `POST`
 * a body (every resume is a `GET` of the `Content-Location`). A string or URL is compared by
 * value; an object by identity, so a new object starts a new stream: keep it in state, not inline.
 */
export type EventStreamRequest =
  | string
  | URL
  | {
      readonly url: string | URL
      readonly method?: string
      readonly body?: BodyInit | null
    }

/**
 * Options of a stream session: the `createEventStream` options plus the reducer and where to
 * persist. The session's view replaces `onOpen`, `onEvent` and `onClose`.
 */
export interface StreamSessionOptions<S>
  extends Omit<
    EventStreamOptions,
    'method' | 'body' | 'signal' | 'lastEventId' | 'onOpen' | 'onEvent' | 'onClose'
  > {
  /** Folds each event into the state, once per event, as it arrives (outside any render). */
  readonly reducer: (state: S, event: ServerSentEvent) => S
  /** The state before the first event of each stream; a function is called once per stream. */
  readonly initialState: S | (() => S)
  /**
   * Keeps the stream's URL, position and state (JSON) in `sessionStorage` under `unbroken:<id>`,
   * so that a reload or a remount re-attaches with a `GET` instead of sending the request again.
   * Until the server answers, it keeps the request (a text body) and its `Idempotency-Key`.
   */
  readonly id?: string
  /** The last unsubscribe sends the `DELETE` that stops the generation, not only disconnects. */
  readonly stopOnUnmount?: boolean
}

/** Where a session's stream stands: `idle` before any request, else the client store's status. */
export type StreamSessionStatus = 'idle' | EventStreamStatus

/**
 * The reduced state plus the client store's snapshot as last published. `bytes` is left out:
 * it changes on every keepalive, and a keepalive must not render.
 */
export interface StreamSessionView<S> extends Omit<EventStreamSnapshot, 'status' | 'bytes'> {
  readonly status: StreamSessionStatus
  readonly state: S
}
