/**
 * The full deployment soak (`pnpm soak:deploy`): 500 concurrent generations through nginx and two
 * proxy instances on one Redis for 60 s, with random client cuts and random SIGTERM restarts of
 * one instance. Prints the figures; exits non-zero on any lost or duplicated event or any answer
 * that differs from the simulated model's. The CI variant is soak.test.ts. Then measures what a
 * finished stream costs in Redis (docs/deployment.md's sizing).
 */
import { baseSeed } from '@unbroken/test-kit'
import { formatRedisMemoryReport, measureRedisMemory } from './redis-memory'
import { formatDeploySoakReport, runDeploySoak } from './soak'

const report = await runDeploySoak({
  streams: Number(process.env.SOAK_STREAMS ?? 500),
  durationMs: Number(process.env.SOAK_DURATION_MS ?? 60_000),
  rampMs: 5_000,
  tokensPerSecond: Number(process.env.SOAK_TOKENS_PER_SECOND ?? 20),
  tokensPerAnswer: Number(process.env.SOAK_TOKENS_PER_ANSWER ?? 200),
  cutEveryMs: 1_000,
  cutProbability: 0.02,
  restartEveryMs: 15_000,
  // Longer than a client of 500 in one Node process stalls on a loaded machine (a minute, seen).
  streamTtlMs: 120_000,
  memoryAfterTtl: true,
  seed: baseSeed(),
})
console.log(formatDeploySoakReport(report))
console.log(
  formatRedisMemoryReport(await measureRedisMemory({ streams: 200, tokensPerSecond: 20 })),
)
if (report.failed > 0 || report.lost > 0 || report.duplicated > 0) {
  console.error('FAILED')
  process.exit(1)
}
