/**
 * The full soak (`pnpm soak`): 1,000 concurrent resumable streams for 60 s with random cuts.
 * Exits non-zero on any lost or duplicated event, or when the server's memory is not back within
 * 10% of its baseline once the streams' TTL passed. The CI variant is soak.test.ts.
 */
import { baseSeed } from '@unbroken/test-kit'
import { formatReport, memoryLeak, runSoak } from './core'

const report = await runSoak({
  streams: Number(process.env.SOAK_STREAMS ?? 1_000),
  durationMs: Number(process.env.SOAK_DURATION_MS ?? 60_000),
  intervalMs: 100,
  cutEveryMs: 1_000,
  cutProbability: 0.02,
  ttlMs: 8_000,
  seed: baseSeed(),
})
console.log(formatReport(report))
const leak = memoryLeak(report)
if (report.failures.length > 0 || report.lost > 0 || report.duplicated > 0 || leak) {
  console.error(`FAILED${leak ? `: ${leak}` : ''}`)
  process.exit(1)
}
