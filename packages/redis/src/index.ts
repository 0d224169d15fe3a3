/** A client from which the log copies connection settings (it always opens its own duplicates). */
export type { RedisClientLike } from './connection'
/** Why an operation failed: the shared `EventLogErrorCode`s, plus `invalid-option` at creation. */
export type { RedisEventLogErrorCode } from './errors'
/** The package's one error class; branch on `code`, and `retryable` says whether to try again. */
export { RedisEventLogError } from './errors'
/** Options of `createRedisEventLog`: where Redis is, key prefix, retention and the producer lease. */
export type { RedisEventLogOptions } from './log'
/**
 * `createRedisEventLog` builds an `EventLog` on Redis Streams so streams resume on any instance;
 * `REDIS_LOG_DEFAULTS` are its defaults (the memory log's, plus a 5 s producer lease).
 */
export { createRedisEventLog, REDIS_LOG_DEFAULTS } from './log'
