import type { EventLogErrorCode } from './log'

/** Why a server operation failed. Event-log codes are shared with every `EventLog` implementation. */
export type ServerErrorCode =
  | EventLogErrorCode
  | 'invalid-field'
  | 'invalid-argument'
  | 'stream-limit'
  | 'forbidden'
  | 'unauthenticated'
  | 'shutting-down'

// Failures that a later attempt can get past: the log comes back, the server restarts, a slot frees.
const RETRYABLE_CODES: ReadonlySet<ServerErrorCode> = new Set([
  'log-unavailable',
  'shutting-down',
  'stream-limit',
])

/**
 * The one error class of `@unbroken/server`. Branch on `code`; `message` says what to do about it.
 * Thrown synchronously only for misuse (a bad option, an injected newline in `id`/`event`); every
 * network-time failure becomes an outcome or a terminal event instead.
 */
export class UnbrokenServerError extends Error {
  override readonly name = 'UnbrokenServerError'
  readonly code: ServerErrorCode
  /** Whether a client may try again; by code unless the thrower knows better (see `options`). */
  readonly retryable: boolean

  constructor(
    code: ServerErrorCode,
    message: string,
    options?: { cause?: unknown; retryable?: boolean | undefined },
  ) {
    super(message, options)
    this.code = code
    this.retryable = options?.retryable ?? RETRYABLE_CODES.has(code)
  }
}
