import { baseSeed } from '@unbroken/test-kit'
import { expect, it } from 'vitest'
import { formatDeploySoakReport, runDeploySoak } from './soak'

// The CI variant of `pnpm soak:deploy` (deploy/soak-run.ts): the same run through nginx, both
// instances and Redis, with client cuts and a SIGTERM restart, smaller and shorter so that it fits
// the CI budget of a shared 2-core machine.
it('keeps concurrent generations exact through nginx, two instances, client cuts and a rolling SIGTERM', {
  timeout: 240_000,
}, async () => {
  const report = await runDeploySoak({
    streams: 60,
    durationMs: 15_000,
    rampMs: 2_000,
    tokensPerSecond: 20,
    tokensPerAnswer: 60,
    cutEveryMs: 1_000,
    cutProbability: 0.03,
    restartEveryMs: 5_000,
    // Long enough that a client starved by a loaded machine still resumes a finished stream.
    streamTtlMs: 60_000,
    memoryAfterTtl: false,
    seed: baseSeed(),
  })
  const figures = formatDeploySoakReport(report)
  console.info(figures)
  expect(report.failed, figures).toBe(0)
  expect({ lost: report.lost, duplicated: report.duplicated }).toEqual({ lost: 0, duplicated: 0 })
  expect(report.cuts).toBeGreaterThan(0)
  expect(report.restarts).toBeGreaterThan(0)
})
