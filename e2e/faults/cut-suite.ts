import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createFaultProxy, type FaultProxy } from '../fault-proxy'
import type { ComparableEvent } from '../support/compare'
import { runPool } from '../support/pool'
import { baseSeed } from '../support/seed'
import { waitFor } from '../support/wait'
import { type CutPlanner, createCutPlanner, remainingBytes } from './cut-planner'
import { cutRun } from './cut-run'
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
      await suite.teardown?.()
    })

    it('holds the whole source in the log', (context) => {
      if (!server) return context.skip(`${suite.name} is not available`)
      expect(finished.reference.map(({ type, data }) => ({ type, data }))).toEqual([
        ...SOURCE.map(({ event, data }) => ({ type: event, data })),
        { type: 'done', data: '{}' },
      ])
    })

    it(`delivers a finished stream exactly through ${suite.runs} seeded runs of 1–3 cuts`, {
      timeout: 150_000,
    }, async (context) => {
      if (!server) return context.skip(`${suite.name} is not available`)
      const scenario = `${suite.name}, finished stream, seeded cuts`
      const results = await runPool(
        Array.from({ length: suite.runs }, (_, i) => seed + i),
        CONCURRENCY,
        (runSeed) =>
          cutRun({
            scenario,
            seed: runSeed,
            proxy,
            planner,
            url: finished.url,
            method: 'GET',
            reference: async () => finished.reference,
          }),
      )
      assertNoFailures(results)
      console.info(`${scenario}:`, { seed, ...summarise(results) })
      expect(results.map((r) => r.cuts)).toEqual(results.map((r) => r.plannedCuts))
    })

    it(`delivers live producers exactly through ${suite.liveRuns} seeded runs of 1–3 cuts`, {
      timeout: 60_000,
    }, async (context) => {
      const live = server
      if (!live) return context.skip(`${suite.name} is not available`)
      const scenario = `${suite.name}, live producer started by POST, seeded cuts`
      const results = await runPool(
        Array.from({ length: suite.liveRuns }, (_, i) => seed + suite.runs + i),
        CONCURRENCY,
        (runSeed) =>
          cutRun({
            scenario,
            seed: runSeed,
            proxy,
            planner,
            url: live.streamsUrl,
            method: 'POST',
            reference: (url) => readLog(live.log, streamId(url)),
          }),
      )
      assertNoFailures(results)
      console.info(`${scenario}:`, { seed, ...summarise(results) })
      expect(results.map((r) => r.cuts)).toEqual(results.map((r) => r.plannedCuts))
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
