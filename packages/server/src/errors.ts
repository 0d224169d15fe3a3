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

/**
 * The one error class of `@unbroken/server`. Branch on `code`; `message` says what to do about it.
 * Thrown synchronously only for misuse (a bad option, an injected newline in `id`/`event`); every
 * network-time failure becomes an outcome or a terminal event instead.
 */
export class UnbrokenServerError extends Error {
  override readonly name = 'UnbrokenServerError'
  readonly code: ServerErrorCode

  constructor(code: ServerErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
  }
}
