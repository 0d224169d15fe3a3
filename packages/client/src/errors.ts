/** Why reading a stream failed. */
export type ClientErrorCode =
  /** The server answered with a status that is not retried (other 4xx, 204, …). */
  | 'http-status'
  /** The response is not `text/event-stream`. */
  | 'invalid-content-type'
  /**
   * The connection failed or dropped before a terminal event. As the final error with no `status`,
   * a `POST` that got no response at all (refused, CORS, server down), which is never sent twice.
   */
  | 'network'
  /** No response headers arrived within `headersTimeoutMs`. */
  | 'headers-timeout'
  /** Nothing arrived, not even a keepalive comment, for longer than `idleTimeoutMs`. */
  | 'idle-timeout'
  /** A line or event grew past `maxEventBytes`. */
  | 'event-too-large'
  /** A 401/403, or a 401 (or the same `auth-expired` expiry) right after refreshing credentials. */
  | 'auth'
  /**
   * The stream cannot be resumed: its URL is unknown (404), the cursor expired (410), there is no
   * same-origin URL to resume at, or the server ignored the cursor or restarted the stream.
   */
  | 'resume-failed'
  /** The server ended the stream with an `error` event. */
  | 'server-error'
  /** `maxAttempts` or `maxElapsedMs` ran out. */
  | 'retries-exhausted'
  /** The caller aborted or closed the stream. */
  | 'aborted'
  /** An option is invalid (thrown synchronously at creation). */
  | 'invalid-argument'

/** What an `UnbrokenClientError` carries besides its code and message. */
export interface ClientErrorDetails {
  readonly cause?: unknown
  /** HTTP status, for failures that came with a response. */
  readonly status?: number | undefined
  /** The first bytes of the response body for HTTP failures; the event's data for `auth-expired`. */
  readonly body?: string | undefined
  /** `code` from the server's error JSON (protocol v1), e.g. `cursor-expired`. */
  readonly serverCode?: string | undefined
  /** Whether retrying may succeed. */
  readonly retryable?: boolean | undefined
  /** The delay the server asked for before a retry (`Retry-After`, `retryAfterMs`), as sent. */
  readonly retryAfterMs?: number | undefined
}

/**
 * The one error class of `@unbroken/client`. Branch on `code`; `message` says what happened and what
 * to do. Network, HTTP and parse failures arrive through state and `onError`, never as rejections.
 */
export class UnbrokenClientError extends Error {
  override readonly name = 'UnbrokenClientError'
  // `declare`: the constructor assigns every field, so no class-field initialisers are emitted
  // (they would only cost bytes in the 4 KB budget).
  declare readonly code: ClientErrorCode
  declare readonly status: number | undefined
  declare readonly body: string | undefined
  declare readonly serverCode: string | undefined
  declare readonly retryable: boolean
  /** Milliseconds the server asked the client to wait before retrying; 0 when it named none. */
  declare readonly retryAfterMs: number

  constructor(code: ClientErrorCode, message: string, details: ClientErrorDetails = {}) {
    super(message, { cause: details.cause })
    this.code = code
    this.status = details.status
    this.body = details.body
    this.serverCode = details.serverCode
    this.retryable = details.retryable ?? false
    this.retryAfterMs = details.retryAfterMs ?? 0
  }
}
