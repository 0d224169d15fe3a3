import type {
  EventStreamOptions,
  EventStreamSnapshot,
  EventStreamStatus,
  ServerSentEvent,
} from '@unbroken/client'

/**
 * What `useEventStream` connects to: a URL to `GET`, or a request whose first attempt may `POST`
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
 * Options of `useEventStream`: the `createEventStream` options plus the reducer and where to
 * persist. The returned state replaces `onOpen`, `onEvent` and `onClose`.
 */
export interface UseEventStreamOptions<S>
  extends Omit<
    EventStreamOptions,
    'method' | 'body' | 'signal' | 'lastEventId' | 'onOpen' | 'onEvent' | 'onClose'
  > {
  /** Folds each event into the state, once per event, outside React's render. */
  readonly reducer: (state: S, event: ServerSentEvent) => S
  /** The state before the first event of each stream; a function is called once per stream. */
  readonly initialState: S | (() => S)
  /**
   * Keeps the stream's URL, position and state (JSON) in `sessionStorage` under `unbroken:<id>`,
   * so that a reload or a remount re-attaches with a `GET` instead of sending the request again.
   * Until the server answers, it keeps the request (a text body) and its `Idempotency-Key`.
   */
  readonly id?: string
  /** Unmounting sends the `DELETE` that stops the generation, instead of only disconnecting. */
  readonly stopOnUnmount?: boolean
}

/** Where a hook's stream stands: `idle` before any request, else the client store's status. */
export type EventStreamHookStatus = 'idle' | EventStreamStatus

/**
 * The reduced state plus the client store's snapshot as of the last render. `bytes` is left out:
 * it changes on every keepalive, and a keepalive must not render.
 */
export interface EventStreamView<S> extends Omit<EventStreamSnapshot, 'status' | 'bytes'> {
  readonly status: EventStreamHookStatus
  readonly state: S
}

/** What `useEventStream` returns: the view, and the controls of its stream. */
export interface EventStreamControls<S> extends EventStreamView<S> {
  /** Sends the authorised `DELETE` to the stream's `Content-Location`: the producer stops. */
  stop(): Promise<void>
  /** After a failure: re-attaches by `GET` where the stream can resume, else sends the request again. */
  retry(): void
}
