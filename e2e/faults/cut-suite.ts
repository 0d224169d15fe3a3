import type { EventLog } from '@unbroken/server'
import { baseSeed, createFaultProxy, type FaultProxy, waitFor } from '@unbroken/test-kit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ComparableEvent, describeFirstDifference } from '../support/compare'
import { runPool } from '../support/pool'
import { type CutPlanner, createCutPlanner, remainingBytes } from './cut-planner'
import { type CutRunOptions, cutRun } from './cut-run'
import {
  type RegistryServer,
  type RegistryServerOptions,
  startRegistryServer,
} from './registry-server'
import { produce, readLog, sourceEvents } from './source'
import { assertNoFailures, summarise } from './summary'

export type CutSuite = {
  /** Names the server setup in test titles and failure messages. */
  readonly name: string
  /** Seeded runs over one finished stream, and over live producers started by POST. */
  readonly runs: number
  readonly liveRuns: number
  /** Server options, or undefined to skip (e.g. no redis-server); may start what it needs. */
  readonly setup: () => Promise<RegistryServerOptions | undefined>
  readonly teardown?: () => Promise<void>
}

const SOURCE = sourceEvents(2_000)
const CONCURRENCY = 12
const streamId = (url: string) => new URL(url).pathname.split('/').pop() ?? ''

// What the log must hold for every stream of the source, ids aside (the log assigns them).
const withoutIds = (events: readonly ComparableEvent[]) =>
  events.map(({ type, data }) => ({ type, id: '', data }))
const SOURCE_IN_LOG: readonly ComparableEvent[] = [
  ...SOURCE.map(({ event, data }) => ({ type: event ?? 'message', id: '', data })),
  { type: 'done', id: '', data: '{}' },
]

/**
 * A stream's events as the log holds them, checked against the source first: each run is
 * compared with the log, so a producer that lost or mangled events on their way into the log
 * would otherwise pass.
 */
async function loggedSource(log: EventLog, url: string): Promise<ComparableEvent[]> {
  const logged = await readLog(log, streamId(url))
  const difference = describeFirstDifference(
    { scenario: `the log of ${url} against the source` },
    SOURCE_IN_LOG,
    withoutIds(logged),
  )
  if (difference !== undefined) throw new Error(difference)
  return logged
}

/**
 * Seeded cut runs through one fault proxy in front of one registry server: every run's client
 * must deliver the 2,000-event source exactly, however its 1–3 connections were cut.
 */
export function describeCutSuite(suite: CutSuite): void {
  const seed = baseSeed()
  describe(`resumable streams (${suite.name}) cut at random byte offsets`, () => {
    let server: RegistryServer | undefined
    let proxy: FaultProxy
    let planner: CutPlanner
    let finished: { url: string; reference: readonly ComparableEvent[] }

    beforeAll(async () => {
      const options = await suite.setup()
      if (!options) return
      server = await startRegistryServer({ ...options, producer: () => produce(SOURCE) })
      const started = await server.registry.start(produce(SOURCE))
      const url = `${server.origin}${started.url}`
      finished = { url, reference: await loggedSource(server.log, url) }
      planner = createCutPlanner(remainingBytes(finished.reference))
      proxy = await createFaultProxy({ targetPort: server.port, plan: planner.plan })
    })
    afterAll(async () => {
      await proxy?.close()
      await server?.close()
      await suite.teardown?.()
    })

    /** `count` seeded runs from `firstSeed` on, which must all deliver their reference exactly. */
    async function runSeeded(
      count: number,
      firstSeed: number,
      run: Omit<CutRunOptions, 'seed' | 'proxy' | 'planner'>,
    ) {
      const seeds = Array.from({ length: count }, (_, i) => firstSeed + i)
      const results = await runPool(seeds, CONCURRENCY, (runSeed) =>
        cutRun({ ...run, seed: runSeed, proxy, planner }),
      )
      assertNoFailures(results)
      console.info(`${run.scenario}:`, { seed, ...summarise(results) })
      expect(results.map((r) => r.cuts)).toEqual(results.map((r) => r.plannedCuts))
    }

    it(`delivers a finished stream exactly through ${suite.runs} seeded runs of 1–3 cuts`, {
      timeout: 150_000,
    }, async (context) => {
      if (!server) return context.skip(`${suite.name} is not available`)
      await runSeeded(suite.runs, seed, {
        scenario: `${suite.name}, finished stream, seeded cuts`,
        url: finished.url,
        method: 'GET',
        reference: async () => finished.reference,
      })
    })

    it(`delivers live producers exactly through ${suite.liveRuns} seeded runs of 1–3 cuts`, {
      timeout: 60_000,
    }, async (context) => {
      const live = server
      if (!live) return context.skip(`${suite.name} is not available`)
      await runSeeded(suite.liveRuns, seed + suite.runs, {
        scenario: `${suite.name}, live producer started by POST, seeded cuts`,
        url: live.streamsUrl,
        method: 'POST',
        reference: (url) => loggedSource(live.log, url),
      })
    })

    it('leaves no connection open on the server once the runs are over', async (context) => {
      const live = server
      if (!live) return context.skip(`${suite.name} is not available`)
      // Every cut must have been noticed by the writer and released, or the hub would leak.
      await waitFor(() => live.hub.metrics().activeStreams === 0, { what: 'no active stream' })
      expect(live.hub.metrics().openedStreams).toBeGreaterThan(suite.runs)
    })
  })
}
