// The public surface of @unbroken/redis. Each export's TSDoc sits on its declaration; the export
// list is snapshotted in exports.test.ts so that any change to it shows in review.
export type { RedisClientLike } from './connection'
export type { RedisEventLogOptions } from './log'
export { createRedisEventLog, REDIS_LOG_DEFAULTS } from './log'
