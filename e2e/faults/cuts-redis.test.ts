import { createRedisEventLog } from '@unbroken/redis'
import { afterAll, beforeAll, describe, it } from 'vitest'
import { type RedisServer, startRedisServer } from '../../packages/redis/test/redis-server'
import { createFaultProxy, type FaultProxy } from '../fault-proxy'
import type { ComparableEvent } from '../support/compare'
import { runPool } from '../support/pool'
import { baseSeed } from '../support/seed'
import { type CutPlanner, createCutPlanner, remainingBytes } from './cut-planner'
import { cutRun } from './cut-run'
import { type RegistryServer, startRegistryServer } from './registry-server'
import { produce, readLog, sourceEvents } from './source'
import { assertNoFailures, summarise } from './summary'

// The same seeded cuts as cuts.test.ts, fewer of them, over the Redis log: its replay-to-tail
// hand-off and its ids must hold under cuts as the memory log's do.
const SOURCE = sourceEvents(2_000)
const RUNS = 100
const LIVE_RUNS = 30
const SEED = baseSeed()

const streamId = (url: string) => new URL(url).pathname.split('/').pop() ?? ''

describe('resumable streams on the Redis log cut at random byte offsets', () => {
  let redis: RedisServer | undefined
  let server: RegistryServer
  let proxy: FaultProxy
  let planner: CutPlanner
  let finished: { url: string; reference: readonly ComparableEvent[] }

  beforeAll(async () => {
    redis = await startRedisServer()
    if (!redis) return
    const log = createRedisEventLog({ url: redis.url, keyPrefix: `e2e-cuts-${process.pid}:` })
    server = await startRegistryServer({ log, producer: () => produce(SOURCE) })
    const started = await server.registry.start(produce(SOURCE))
    finished = { url: `${server.origin}${started.url}`, reference: await readLog(log, started.id) }
    planner = createCutPlanner(remainingBytes(finished.reference))
    proxy = await createFaultProxy({ targetPort: server.port, plan: planner.plan })
  })
  afterAll(async () => {
    await proxy?.close()
    await server?.close()
    await redis?.stop()
  })

  it(`delivers a finished stream exactly through ${RUNS} seeded runs`, {
    timeout: 60_000,
  }, async (context) => {
    if (!redis) return context.skip('redis-server is not installed')
    const seeds = Array.from({ length: RUNS }, (_, i) => SEED + i)
    const results = await runPool(seeds, 8, (seed) =>
      cutRun({
        scenario: 'Redis log, finished stream, seeded cuts',
        seed,
        proxy,
        planner,
        url: finished.url,
        method: 'GET',
        reference: async () => finished.reference,
      }),
    )
    assertNoFailures(results)
    console.info('Redis log, finished stream, seeded cuts:', { seed: SEED, ...summarise(results) })
  })

  it(`delivers live producers exactly through ${LIVE_RUNS} seeded runs`, {
    timeout: 60_000,
  }, async (context) => {
    if (!redis) return context.skip('redis-server is not installed')
    const seeds = Array.from({ length: LIVE_RUNS }, (_, i) => SEED + RUNS + i)
    const results = await runPool(seeds, 8, (seed) =>
      cutRun({
        scenario: 'Redis log, live producer, seeded cuts',
        seed,
        proxy,
        planner,
        url: server.streamsUrl,
        method: 'POST',
        reference: (url) => readLog(server.log, streamId(url)),
      }),
    )
    assertNoFailures(results)
    console.info('Redis log, live producer, seeded cuts:', { seed: SEED, ...summarise(results) })
  })
})
