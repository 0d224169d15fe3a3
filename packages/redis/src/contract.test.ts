import { describeEventLogContract } from '@unbroken/server/testing'
import { startRedisServer } from '@unbroken/test-kit'
import { afterAll, it } from 'vitest'
import { createRedisEventLog } from './log'

const redis = await startRedisServer()
afterAll(() => redis?.stop())

if (redis) {
  describeEventLogContract(
    'redis',
    (limits) => createRedisEventLog({ url: redis.url, keyPrefix: 'contract:', ...limits }),
    { streamPrefix: `${process.pid}:` },
  )
} else {
  it.skip('needs redis-server (set REDIS_URL or install it)', () => {})
}
