// How busy the machine was around a measurement. Figures taken while other processes compete for
// the cores are not comparable with a quiet run, so a run refuses to start above MAX_LOAD unless
// forced, and every suite prints the load average and the CPU that other processes used meanwhile.

import { readFileSync } from 'node:fs'
import { availableParallelism, loadavg } from 'node:os'

/** The 1-minute load average above which a run refuses to start. */
export const MAX_LOAD = 1.5

/** `--force` or `BENCH_FORCE=1`: measure on a busy machine anyway (figures labelled as such). */
export const FORCED = process.argv.includes('--force') || process.env.BENCH_FORCE === '1'

const load = () => loadavg()[0] ?? 0

/** Prints the machine's state; false when the load is too high to measure and the run is not forced. */
export function loadGate(): boolean {
  const now = load()
  console.log(`load average ${now.toFixed(2)} on ${availableParallelism()} cores`)
  if (now <= MAX_LOAD) return true
  if (FORCED) {
    console.log(`FORCED above ${MAX_LOAD}: figures from this run are not fit for the README`)
    return true
  }
  console.error(
    `refusing to measure: load average ${now.toFixed(2)} > ${MAX_LOAD}. Wait for a quiet machine, or force with BENCH_FORCE=1 (or --force) to develop.`,
  )
  return false
}

// Linux only: busy jiffies of the whole machine (/proc/stat) and of this process plus its reaped
// children (/proc/self/stat). Elsewhere the foreign share is simply not printed.
function busyJiffies(): { machine: number; own: number; total: number } | undefined {
  try {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]?.split(/\s+/).slice(1) ?? []
    const [user, nice, system, idle, iowait, irq, softirq, steal] = cpu.map(Number)
    const machine =
      (user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)
    const self = readFileSync('/proc/self/stat', 'utf8')
    // Fields after the command name (which may contain spaces): utime is the 12th, then stime,
    // cutime, cstime (children that exited and were waited for, as `fork`ed contenders are).
    const fields = self.slice(self.lastIndexOf(')') + 2).split(' ')
    const own = fields.slice(11, 15).reduce((sum, field) => sum + Number(field), 0)
    return { machine, own, total: machine + (idle ?? 0) + (iowait ?? 0) }
  } catch {
    return undefined
  }
}

/**
 * Starts watching; `stop()` returns a line with the load average before and after and the cores
 * that other processes used meanwhile. Child processes count as ours only once they have exited,
 * so a suite stops (and awaits) its children before this is read.
 */
export function watchMachine(): { stop(): string } {
  const loadBefore = load()
  const before = busyJiffies()
  return {
    stop() {
      const after = busyJiffies()
      let foreign = ''
      if (before && after && after.total > before.total) {
        const cores = availableParallelism()
        const elapsed = (after.total - before.total) / cores
        const others = (after.machine - before.machine - (after.own - before.own)) / elapsed
        foreign = `; other processes used ${Math.max(0, others).toFixed(2)} of ${cores} cores`
      }
      return `load average ${loadBefore.toFixed(2)} → ${load().toFixed(2)}${foreign}`
    },
  }
}
