import type { UnbrokenClientError } from './errors'
import type { ServerSentEvent } from './parser'

/** Where the reader stands: the store's and React's view of the connection. */
export type EventStreamStatus = 'connecting' | 'open' | 'reconnecting' | 'closed'

/** How a stream ended: a terminal event, the caller (`close()`, `break`, `signal`), or a failure. */
export type EventStreamCloseReason = 'done' | 'aborted' | 'error'

/** What a `headers` function receives, so it can sign each attempt (e.g. a fresh bearer token). */
export interface RequestContext {
  readonly url: string
  readonly method: string
  /** Consecutive failed attempts before this one (0 on the first try and after a healthy open). */
  readonly attempt: number
  readonly lastEventId: string
}

/** What `shouldRetry` receives: the failure plus the decision the built-in policy made. */
export interface RetryContext {
  readonly error: UnbrokenClientError
  /** HTTP status of the failed attempt, if it got a response. */
  readonly status: number | undefined
  /** Consecutive failed attempts, this one included (1 on the first failure). */
  readonly attempt: number
  /** Milliseconds since the first failure of this streak. */
  readonly elapsedMs: number
  /** The built-in decision (false for fatal errors and when `maxAttempts`/`maxElapsedMs` ran out). */
  readonly retry: boolean
  /** The built-in delay: `Retry-After` / `retryAfterMs` (capped at `maxRetryAfterMs`) plus full-jitter backoff. */
  readonly delayMs: number
}

/** Passed to `onReconnect` before the reader waits `delayMs` and resumes. */
export interface ReconnectInfo {
  readonly attempt: number
  readonly delayMs: number
  readonly error: UnbrokenClientError
}

/** Passed to `onAuthRequired`: why credentials must be refreshed before the reader resumes. */
export interface AuthContext {
  /** `unauthorized` for a 401 response, `auth-expired` for the protocol v1 event. */
  readonly reason: 'unauthorized' | 'auth-expired'
}

/** Passed to `onClose`, once, when the stream ends for good. */
export interface CloseInfo {
  readonly reason: EventStreamCloseReason
  /** The error that ended it, when `reason` is `error` (or `aborted` by a signal). */
  readonly error: UnbrokenClientError | undefined
}

/** Immutable view of a stream for UI bindings; a new object on every change, else the same one. */
export interface EventStreamSnapshot {
  readonly status: EventStreamStatus
  /** The resume position: the id of the last completed block (id-only blocks count). */
  readonly lastEventId: string
  /** The URL the next attempt uses (the `Content-Location` once the server sent one). */
  readonly url: string
  /** Consecutive failed attempts; 0 once an event arrives. */
  readonly attempt: number
  /** The latest failure, retried or final; `undefined` until one happens. */
  readonly error: UnbrokenClientError | undefined
  /** Set once `status` is `closed`. */
  readonly closeReason: EventStreamCloseReason | undefined
  /** Events delivered, over all connections. */
  readonly events: number
  /**
   * Of `events`, those the server already had in its log when a connection attached, as its
   * `Unbroken-Replay-Through` header said (protocol v1, A3): replayed rather than live.
   */
  readonly replayed: number
  /** Body bytes received, over all connections (comments and keepalives included). */
  readonly bytes: number
  /** Connections started after the first one. */
  readonly reconnects: number
  /** Milliseconds from sending the latest request to its first body byte. */
  readonly timeToFirstByteMs: number | undefined
}

/** Exponential backoff with full jitter: `random() * min(maxMs, base * multiplier ** (n - 1))`. */
export interface BackoffOptions {
  /**
   * The base delay until the server sends `retry:`, which then replaces it, as EventSource does
   * (an Unbroken server sends one at every opening). Default 1000.
   */
  readonly initialMs?: number
  /** The cap; never below the base. Default 30000. */
  readonly maxMs?: number
  /** Default 2. */
  readonly multiplier?: number
}

/** Options of {@link createEventStream}; every one is optional. */
export interface EventStreamOptions {
  /** The `fetch` to use (a wrapper, a polyfill, a test double). Default: `globalThis.fetch`. */
  readonly fetch?: typeof fetch
  /** Method of the first request only; every resume is a `GET`. Default `GET`. */
  readonly method?: string
  /** Body of the first request only; it is never sent twice (a second POST starts a second generation). */
  readonly body?: BodyInit | null
  /** Static headers, or a function called before every attempt (so a refreshed token is used). */
  readonly headers?: HeadersInit | ((context: RequestContext) => HeadersInit | Promise<HeadersInit>)
  /** `fetch`'s credentials mode, e.g. `include` for cookies cross-origin. */
  readonly credentials?: RequestCredentials
  /** Cancels everything: the fetch, the body reader, timers and iterators. */
  readonly signal?: AbortSignal
  /** Resume position to start from, e.g. one saved before a page reload. */
  readonly lastEventId?: string
  /** Where to resume with `GET` once a response opened, when it carries no usable `Content-Location`. */
  readonly resumeUrl?: string | URL
  /**
   * Other origins a `Content-Location` may move the stream to. The next requests carry your
   * headers and credentials there, so by default only the stream's own origin is followed.
   */
  readonly resumeOrigins?: readonly string[]
  /**
   * The `Idempotency-Key` of the first request and every re-send of it when it is not a `GET`:
   * a random one per stream by default, so a server that honours it attaches a repeated `POST`
   * to the running generation. With a key, a `POST` that got no response or a gateway's 502/504
   * is sent again; `false` sends none (for a server that ignores it), and such a `POST` is not.
   */
  readonly idempotencyKey?: string | false
  /** Send the resume id as this query parameter instead of `Last-Event-ID` (no CORS preflight). */
  readonly lastEventIdQueryParam?: string
  /** Marks the event that ends the stream normally. Default: `event.type === 'done'` (protocol v1). */
  readonly isDone?: (event: ServerSentEvent) => boolean
  /** Abort and resume when no byte (keepalive comments count) arrives for this long; 0 disables. Default 45000. */
  readonly idleTimeoutMs?: number
  /** Abort and retry when response headers take this long (a loaded server may queue the request); 0 disables. Default 60000. */
  readonly headersTimeoutMs?: number
  readonly backoff?: BackoffOptions
  /** Give up after this many failed attempts (or refreshes with no event between) in a row. Default 10. */
  readonly maxAttempts?: number
  /** Give up rather than start an attempt this long after a streak of failures began. Default Infinity. */
  readonly maxElapsedMs?: number
  /** The longest `Retry-After` or `retryAfterMs` honoured; longer server requests wait this long. Default 60000. */
  readonly maxRetryAfterMs?: number
  /** Overrides the retry policy: `false` fails, `true` retries after `delayMs`, a number retries after that many ms. */
  readonly shouldRetry?: (context: RetryContext) => boolean | number
  /** Refreshes credentials after a 401 or an `auth-expired` event; the reader then resumes once. */
  readonly onAuthRequired?: (context: AuthContext) => void | Promise<void>
  /** Largest event the parser buffers before failing with `event-too-large`. */
  readonly maxEventBytes?: number
  /** Random number in [0, 1) for jitter; inject a seeded one for deterministic tests. */
  readonly random?: () => number
  /** A connection opened (status 200, `text/event-stream`). */
  readonly onOpen?: (response: Response) => void
  readonly onEvent?: (event: ServerSentEvent) => void
  /** The stream failed for good (after retries, if any). */
  readonly onError?: (error: UnbrokenClientError) => void
  /** A retryable failure happened; the reader waits `delayMs`, then resumes. */
  readonly onReconnect?: (info: ReconnectInfo) => void
  readonly onClose?: (info: CloseInfo) => void
}

/** A reconnecting event stream: iterate it, or use the callbacks, or `subscribe` to its store. */
export interface EventStream extends AsyncIterable<ServerSentEvent> {
  /** Calls `listener` after every snapshot change; returns the unsubscribe function. */
  subscribe(listener: () => void): () => void
  getSnapshot(): EventStreamSnapshot
  /** Stops everything and settles iterators quietly; safe to call any number of times. */
  close(): void
  /** The URL the next attempt uses: the `Content-Location` once the server sent one. */
  readonly url: string
}
