import type { CutRunResult } from './cut-run'

/** Totals of a batch of cut runs, for the end-of-suite line and the soak report. */
export function summarise(results: readonly CutRunResult[]) {
  return {
    runs: results.length,
    failed: results.filter((r) => r.failure !== undefined).length,
    cuts: results.reduce((n, r) => n + r.cuts, 0),
    reconnects: results.reduce((n, r) => n + r.reconnects, 0),
    events: results.reduce((n, r) => n + r.events, 0),
  }
}

/** Throws one error listing the first failures (each names scenario, seed and first difference). */
export function assertNoFailures(results: readonly CutRunResult[], show = 3): void {
  const failures = results.filter((r) => r.failure !== undefined)
  if (failures.length === 0) return
  const listed = failures.slice(0, show).map((r) => r.failure)
  throw new Error(`${failures.length} of ${results.length} runs failed:\n${listed.join('\n')}`)
}
