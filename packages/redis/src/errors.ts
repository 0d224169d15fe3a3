import type { EventLogErrorCode } from '@unbroken/server'

/**
 * Why a Redis event-log operation failed: the shared `EventLog` codes, plus misuse at creation
 * (`invalid-option`) and a server older than Redis 7.0 (`unsupported-redis`, on first use).
 */
export type RedisEventLogErrorCode = EventLogErrorCode | 'invalid-option' | 'unsupported-redis'

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

/**
 * Why a stream refused an operation or ended a read: a status from meta, its terminal marker,
 * or what the tail saw (`vanished`: its keys are gone; `unreachable`: Redis stopped answering).
 */
export type StreamTrouble =
  | 'unknown-stream'
  | 'complete'
  | 'lost'
  | 'failed'
  | 'vanished'
  | 'unreachable'

/** The one error each trouble surfaces as, so producers and readers on any instance agree. */
export function streamError(streamId: string, trouble: StreamTrouble): RedisEventLogError {
  const stream = `Stream "${streamId}"`
  switch (trouble) {
    case 'unknown-stream':
      return new RedisEventLogError('unknown-stream', `No stream "${streamId}" (or it expired).`)
    case 'complete':
      return new RedisEventLogError('stream-complete', `${stream} is complete.`)
    case 'lost':
      return new RedisEventLogError(
        'producer-lost',
        `The producer of stream "${streamId}" stopped heartbeating (its process died); start a new stream.`,
      )
    case 'failed':
      return new RedisEventLogError(
        'log-unavailable',
        `${stream} ended because Redis was unreachable while it was produced; start a new stream.`,
      )
    case 'vanished':
      // Retryable like every Redis failure: the client's resume then gets a definite 404.
      return new RedisEventLogError(
        'log-unavailable',
        `${stream} vanished from Redis (a restart without persistence, an eviction or a flush).`,
      )
    case 'unreachable':
      return new RedisEventLogError(
        'log-unavailable',
        `Redis stopped answering while stream "${streamId}" was read; resume with Last-Event-ID.`,
      )
  }
}
