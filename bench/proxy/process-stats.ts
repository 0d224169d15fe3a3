// CPU and memory of another process, read from /proc (Linux): the suite's servers are separate
// processes, and a server's own numbers are what its cost per token and per stream is made of.
import { readFileSync } from 'node:fs'

// Linux reports CPU in clock ticks of 1/100 s (USER_HZ, 100 on every mainstream kernel).
const TICK_US = 10_000

/** User + system CPU time used so far, in µs. */
export function cpuUs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) * TICK_US
}

/** Resident set size, in bytes. */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN) * 1024
}
