import { createRedisEventLog } from '@unbroken/redis'
import { type RedisServer, startRedisServer } from '@unbroken/test-kit'
import { describeCutSuite } from './cut-suite'

// Fewer runs over the Redis log: its replay-to-tail hand-off must hold under cuts as the memory
// log's does.
let redis: RedisServer | undefined

describeCutSuite({
  name: 'Redis log',
  runs: 100,
  liveRuns: 30,
  async setup() {
    redis = await startRedisServer()
    if (!redis) return undefined
    return { log: createRedisEventLog({ url: redis.url, keyPrefix: `e2e-cuts-${process.pid}:` }) }
  },
  teardown: async () => redis?.stop(),
})
