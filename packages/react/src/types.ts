import type {
  EventStreamRequest,
  StreamSessionOptions,
  StreamSessionStatus,
  StreamSessionView,
} from '@unbroken/client/store'

export type { EventStreamRequest }

/**
 * Options of `useEventStream`: the `createEventStream` options plus the reducer and where to
 * persist (`id`); `stopOnUnmount` makes unmounting stop the generation, not only disconnect.
 */
export type UseEventStreamOptions<S> = StreamSessionOptions<S>

/** Where a hook's stream stands: `idle` before any request, else the client store's status. */
export type EventStreamHookStatus = StreamSessionStatus

/** The reduced state plus the client store's snapshot as of the last render (no `bytes`). */
export type EventStreamView<S> = StreamSessionView<S>

/** What `useEventStream` returns: the view, and the controls of its stream. */
export interface EventStreamControls<S> extends EventStreamView<S> {
  /** Sends the authorised `DELETE` to the stream's `Content-Location`: the producer stops. */
  stop(): Promise<void>
  /** After a failure: re-attaches by `GET` where the stream can resume, else sends the request again. */
  retry(): void
}
