import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createFaultProxy, type FaultProxy } from '../fault-proxy'
import type { ComparableEvent } from '../support/compare'
import { runPool } from '../support/pool'
import { baseSeed } from '../support/seed'
import { type CutPlanner, createCutPlanner, remainingBytes } from './cut-planner'
import { cutRun } from './cut-run'
import { type RegistryServer, startRegistryServer } from './registry-server'
import { produce, readLog, sourceEvents } from './source'
import { assertNoFailures, summarise } from './summary'

const SOURCE = sourceEvents(2_000)
const RUNS = Number(process.env.E2E_CUT_RUNS ?? 1_000)
const LIVE_RUNS = Math.ceil(RUNS / 10)
const CONCURRENCY = 12
const SEED = baseSeed()

const streamId = (url: string) => new URL(url).pathname.split('/').pop() ?? ''

describe('resumable streams cut at random byte offsets', () => {
  let server: RegistryServer
  let proxy: FaultProxy
  let planner: CutPlanner
  let finished: { url: string; reference: readonly ComparableEvent[] }

  beforeAll(async () => {
    server = await startRegistryServer({ producer: () => produce(SOURCE) })
    const started = await server.registry.start(produce(SOURCE))
    finished = {
      url: `${server.origin}${started.url}`,
      reference: await readLog(server.log, started.id),
    }
    planner = createCutPlanner(remainingBytes(finished.reference))
    proxy = await createFaultProxy({ targetPort: server.port, plan: planner.plan })
  })
  afterAll(async () => {
    await proxy?.close()
    await server?.close()
  })

  it('holds the whole source in the log', () => {
    expect(finished.reference.map(({ type, data }) => ({ type, data }))).toEqual([
      ...SOURCE.map(({ event, data }) => ({ type: event, data })),
      { type: 'done', data: '{}' },
    ])
  })

  it(`delivers a finished stream exactly through ${RUNS} seeded runs of 1–3 cuts`, {
    timeout: 150_000,
  }, async () => {
    const seeds = Array.from({ length: RUNS }, (_, i) => SEED + i)
    const results = await runPool(seeds, CONCURRENCY, (seed) =>
      cutRun({
        scenario: 'finished stream, seeded cuts',
        seed,
        proxy,
        planner,
        url: finished.url,
        method: 'GET',
        reference: async () => finished.reference,
      }),
    )
    assertNoFailures(results)
    console.info('finished stream, seeded cuts:', { seed: SEED, ...summarise(results) })
    expect(results.map((r) => r.cuts)).toEqual(results.map((r) => r.plannedCuts))
  })

  it(`delivers live producers exactly through ${LIVE_RUNS} seeded runs of 1–3 cuts`, {
    timeout: 60_000,
  }, async () => {
    const seeds = Array.from({ length: LIVE_RUNS }, (_, i) => SEED + RUNS + i)
    const results = await runPool(seeds, CONCURRENCY, (seed) =>
      cutRun({
        scenario: 'live producer started by POST, seeded cuts',
        seed,
        proxy,
        planner,
        url: server.streamsUrl,
        method: 'POST',
        reference: (url) => readLog(server.log, streamId(url)),
      }),
    )
    assertNoFailures(results)
    console.info('live producer, seeded cuts:', { seed: SEED, ...summarise(results) })
    expect(results.map((r) => r.cuts)).toEqual(results.map((r) => r.plannedCuts))
  })
})
