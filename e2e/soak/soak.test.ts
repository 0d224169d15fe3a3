import { baseSeed } from '@unbroken/test-kit'
import { expect, it } from 'vitest'
import { formatReport, memoryLeak, runSoak } from './core'

// The CI variant of `pnpm soak` (soak/run.ts): the same core, 1,000 concurrent streams, for 10 s
// instead of 60, so that it fits the CI budget of a 2-core machine.
it('keeps 1,000 concurrent cut streams exact, and server memory returns after their TTL', {
  timeout: 150_000,
}, async () => {
  const report = await runSoak({
    streams: 1_000,
    durationMs: 10_000,
    intervalMs: 100,
    cutEveryMs: 1_000,
    cutProbability: 0.02,
    // Long enough that a client starved by a loaded CI machine still resumes before its
    // finished stream expires (then it would rightly get a 404).
    ttlMs: 8_000,
    seed: baseSeed(),
  })
  console.info(formatReport(report))
  expect(report.failures).toEqual([])
  expect({ lost: report.lost, duplicated: report.duplicated }).toEqual({ lost: 0, duplicated: 0 })
  expect(report.cuts).toBeGreaterThan(0)
  expect(memoryLeak(report)).toBeUndefined()
})
