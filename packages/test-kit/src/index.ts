/**
 * `@unbroken/test-kit`: the one home of test infrastructure shared by package tests, e2e and
 * bench. Private; never a runtime dependency of a published package. The parser conformance table
 * is its own entry, `@unbroken/test-kit/parser-cases`.
 */
export { type Child, dyingWithParent, startChild } from './child'
export { chromiumLaunchOptions } from './chromium'
export {
  createFaultProxy,
  type FaultPlan,
  type FaultProxy,
  type FaultProxyOptions,
  type ProxiedConnection,
  type RequestHead,
} from './fault-proxy'
export { freePort, type Listening, listen } from './listen'
export { baseSeed, createRandom, describeSeed, randomInt } from './random'
export {
  hasRedisServer,
  type RedisServer,
  type RedisServerOptions,
  startRedisServer,
} from './redis-server'
export { parseSse, readSse, type SseEvent, type SseReader } from './sse'
export { waitFor } from './wait'
