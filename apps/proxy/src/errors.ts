import type { ErrorPayload } from '@unbroken/server'

/**
 * Why the proxy refused a request or ended a stream with `error`. The `upstream-*` codes mean the
 * same whichever upstream kind produced them, so a client branches on the code alone.
 */
export type ProxyErrorCode =
  /** A flag or environment variable failed validation at start. */
  | 'invalid-config'
  /** The request body or a header is malformed; fix the request. */
  | 'invalid-request'
  /** The request body is larger than the proxy accepts. */
  | 'request-too-large'
  /** No endpoint at this path. */
  | 'not-found'
  /** No token secret is configured, so there are no tokens to issue (open local mode). */
  | 'auth-disabled'
  /** The upstream refused the proxy's credentials (401/403): fix `--upstream-key`. */
  | 'upstream-auth'
  /** The upstream rate-limited the request (429); `retryAfterMs` says when to try again. */
  | 'upstream-rate-limited'
  /** The upstream refused the request itself (400, 404, 413, 422): retrying will not help. */
  | 'upstream-rejected'
  /** The upstream could not be reached or failed before streaming (5xx, refused, reset). */
  | 'upstream-unavailable'
  /** The upstream reported an error inside its stream (an error frame or event). */
  | 'upstream-error'
  /** The upstream stream ended or broke off without its protocol's end marker. */
  | 'upstream-truncated'
  /** The upstream sent nothing for longer than `--upstream-idle-timeout`. */
  | 'upstream-timeout'
  /** The generation ran longer than `--max-duration` and was stopped. */
  | 'max-duration'

// Codes for which sending the same request again can succeed without changing anything.
const RETRYABLE: ReadonlySet<ProxyErrorCode> = new Set([
  'upstream-rate-limited',
  'upstream-unavailable',
  'upstream-truncated',
  'upstream-timeout',
])

/** Extra facts about a `ProxyError`. */
export interface ProxyErrorOptions {
  readonly cause?: unknown
  /** Overrides the code's own rule, e.g. an in-stream error whose type says it is transient. */
  readonly retryable?: boolean | undefined
  /** When to try again, from the upstream's `Retry-After`. */
  readonly retryAfterMs?: number | undefined
  /** The HTTP status the upstream answered with, for an error answered before its stream. */
  readonly upstreamStatus?: number | undefined
}

/** The one error class of the proxy. Its `message` is written for the client that reads it. */
export class ProxyError extends Error {
  override readonly name = 'ProxyError'
  readonly code: ProxyErrorCode
  /**
   * Whether sending the same request again can succeed. An error inside a stream is final all the
   * same (the stream is over); this is for answers before a stream and for the SDK formats.
   */
  readonly retryable: boolean
  /** When to send it again, from the upstream's `Retry-After`. */
  readonly retryAfterMs: number | undefined
  /**
   * The upstream's HTTP status when it refused before streaming: the SDK-compatible endpoints
   * answer with the same status, so that the SDKs' own retry rules apply.
   */
  readonly upstreamStatus: number | undefined

  constructor(code: ProxyErrorCode, message: string, options: ProxyErrorOptions = {}) {
    super(message, { cause: options.cause })
    this.code = code
    this.retryable = options.retryable ?? RETRYABLE.has(code)
    this.retryAfterMs = options.retryAfterMs
    this.upstreamStatus = options.upstreamStatus
  }

  /** The protocol v1 error JSON (`event: error` data, and the body of an HTTP error answer). */
  toPayload(): ErrorPayload {
    const { code, message, retryable, retryAfterMs } = this
    return retryAfterMs === undefined
      ? { code, message, retryable }
      : { code, message, retryable, retryAfterMs }
  }
}

/**
 * HTTP status of an answer that refuses a request with `error`. An upstream failure that is
 * answered over HTTP (not as a stream event) keeps the upstream's meaning: 429 stays 429, and the
 * rest are a bad gateway (502) or a gateway timeout (504).
 */
export const STATUS: Readonly<Record<ProxyErrorCode, number>> = {
  'invalid-config': 500,
  'invalid-request': 400,
  'request-too-large': 413,
  'not-found': 404,
  'auth-disabled': 404,
  'upstream-auth': 502,
  'upstream-rate-limited': 429,
  'upstream-rejected': 502,
  'upstream-unavailable': 503,
  'upstream-error': 502,
  'upstream-truncated': 502,
  'upstream-timeout': 504,
  'max-duration': 504,
}
