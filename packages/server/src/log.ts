/**
 * The event log: where a stream's events live, so that any connection (on any instance) can replay
 * from a cursor and then follow the live tail. The memory log is the default; `@unbroken/redis`
 * implements the same interface and passes the same contract suite (`@unbroken/server/testing`).
 */

/** One stored event. `id` is assigned by the log, opaque to clients and strictly ordered per stream. */
export interface LoggedEvent {
  readonly id: string
  /** SSE event type; `undefined` means the default `message`. */
  readonly event?: string | undefined
  readonly data: string
}

/** What a producer appends; the log assigns the id. */
export interface EventInput {
  readonly event?: string | undefined
  readonly data: string
}

/** Lifecycle of a stream in the log. */
export type StreamStatus = 'live' | 'complete'

/** What the log knows about a stream, without reading its events. */
export interface StreamInfo {
  readonly status: StreamStatus
  /** Set at creation, e.g. the principal who owns the stream; used by `authorize`. */
  readonly meta: Readonly<Record<string, string>>
  /** The last appended event, if any: where a connection is at the tail, and a terminal event to replay. */
  readonly lastEvent?: LoggedEvent | undefined
}

/** Where `read` starts and what stops its live tail. */
export interface EventLogReadOptions {
  /**
   * Replay strictly after this id. Omitted means after `startId`: from the stream's first event,
   * never from whatever is left once that was trimmed (that is `cursor-expired`).
   */
  readonly after?: string | undefined
  /** Stops the live tail; the iterator then returns without throwing. */
  readonly signal?: AbortSignal | undefined
}

/**
 * Storage for resumable streams. Every method rejects with an error whose `code` property is an
 * `EventLogErrorCode` (the server's own `UnbrokenServerError`, or an implementation's own class),
 * so that callers branch on `code` alone.
 *
 * `read` yields every event after the cursor, then tails live appends, and returns once the
 * stream is complete and everything up to completion was yielded. The hand-off from replay to
 * live must be gap-free and duplicate-free under concurrent appends.
 */
export interface EventLog {
  /**
   * The cursor before every stream's first event (e.g. `0`): what a connection without
   * `Last-Event-ID` starts after (protocol v1 §5, the cursor block). Reading after it replays from
   * the first event, or throws `cursor-expired` once that event was trimmed.
   */
  readonly startId: string
  /** Creates an empty live stream. Rejects with `stream-exists` if the id is taken. */
  create(streamId: string, meta?: Record<string, string>): Promise<void>
  /**
   * Appends one event and resolves to its id. Rejects with `stream-complete` after `complete`, with
   * `stream-too-large` for one event bigger than the log's byte limit, and with `invalid-argument`
   * for data that is not a string or an event type that is not a string free of CR, LF and NUL
   * (which would inject SSE fields), before storing anything.
   */
  append(streamId: string, event: EventInput): Promise<string>
  /** Marks the stream finished; its events are kept for the log's TTL after this. */
  complete(streamId: string): Promise<void>
  /** Resolves to `undefined` for an unknown (or expired) stream. */
  info(streamId: string): Promise<StreamInfo | undefined>
  /**
   * Replays after `options.after`, then tails. Throws `unknown-stream` or `cursor-expired` (the
   * cursor is older than the oldest event kept, or was never issued by this stream) on the first
   * `next()`, without waiting for an event when one is already logged after the cursor; a reader
   * that trimming overtakes while tailing throws `cursor-expired`.
   */
  read(streamId: string, options?: EventLogReadOptions): AsyncIterable<LoggedEvent>
  /** Asks the stream's producer, wherever it runs, to stop. Idempotent. */
  cancel(streamId: string): Promise<void>
  /** Calls `listener` once when `cancel` is called for the stream; returns an unsubscribe. */
  onCancel(streamId: string, listener: () => void): () => void
  /** Releases timers and connections. */
  close(): Promise<void>
}

/** Why an event-log operation failed. */
export type EventLogErrorCode =
  | 'invalid-argument'
  | 'unknown-stream'
  | 'stream-exists'
  | 'stream-complete'
  | 'cursor-expired'
  | 'stream-too-large'
  | 'producer-lost'
  | 'log-unavailable'
