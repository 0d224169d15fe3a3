import type { EventLogErrorCode } from '@unbroken/server'

/** Why a Redis event-log operation failed: the shared `EventLog` codes, plus misuse at creation. */
export type RedisEventLogErrorCode = EventLogErrorCode | 'invalid-option'

/**
 * The one error class of `@unbroken/redis`. Its `code` is the `EventLogErrorCode` the server
 * branches on; `retryable` says whether the same request may succeed later (Redis came back).
 */
export class RedisEventLogError extends Error {
  override readonly name = 'RedisEventLogError'
  readonly code: RedisEventLogErrorCode
  readonly retryable: boolean

  constructor(code: RedisEventLogErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
    this.retryable = code === 'log-unavailable'
  }
}
