// The one timing harness every suite uses: interleaved rounds, median with spread, and targets
// printed PASS/MISS. Suites measure; this file decides how figures are summarised and shown, so
// every table in `pnpm bench` means the same thing.

/**
 * Measured rounds per figure: `BENCH_ROUNDS`, default 7. Fewer is for developing a suite only: a
 * median of fewer rounds moves with one stall, and the run says its figures are unfit to publish.
 */
export const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7)

/** A measure over rounds: its median and its spread (lowest and highest round). */
export interface Stat {
  readonly median: number
  readonly low: number
  readonly high: number
}

export function stat(samples: readonly number[]): Stat {
  const sorted = samples.filter((s) => !Number.isNaN(s)).sort((a, b) => a - b)
  const mid = sorted.length >> 1
  const median =
    sorted.length === 0
      ? Number.NaN
      : sorted.length % 2
        ? (sorted[mid] as number)
        : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
  return { median, low: sorted[0] ?? Number.NaN, high: sorted.at(-1) ?? Number.NaN }
}

/**
 * The ratio of two contenders measured in the same rounds: the median of per-round ratios.
 * Runs of one round share the machine's load, so their ratio is steadier than a ratio of medians.
 */
export function ratio(numerator: readonly number[], denominator: readonly number[]): Stat {
  return stat(numerator.map((value, round) => value / (denominator[round] ?? Number.NaN)))
}

export interface RoundsOptions<C extends string> {
  readonly contenders: readonly C[]
  /** Measures one contender once; the number is whatever the suite compares (events/s, ms, …). */
  readonly measure: (contender: C, round: number) => number | Promise<number>
  /** Unmeasured rounds first, for the JIT and connection pools. Default 1. */
  readonly warmup?: number
  readonly rounds?: number
  /** Printed after each measured round, so a long suite shows progress. */
  readonly label?: string
}

/**
 * Measures every contender once per round, rotating the order each round so that a burst of load
 * from elsewhere does not always land on the same contender. Returns each contender's samples,
 * index = round, so that `ratio` can pair them.
 */
export async function interleave<C extends string>(
  options: RoundsOptions<C>,
): Promise<Map<C, number[]>> {
  const { contenders, measure, warmup = 1, rounds = ROUNDS } = options
  const samples = new Map<C, number[]>(contenders.map((c) => [c, []]))
  for (let round = -warmup; round < rounds; round++) {
    const shift = ((round % contenders.length) + contenders.length) % contenders.length
    for (const contender of [...contenders.slice(shift), ...contenders.slice(0, shift)]) {
      const value = await measure(contender, round)
      if (round >= 0) samples.get(contender)?.push(value)
    }
    if (round >= 0 && options.label) console.log(`  ${options.label}: round ${round + 1}/${rounds}`)
  }
  return samples
}

/** `1,234,567`, or with `digits` decimals. */
export const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })

/** A stat as `median (low–high)`, e.g. a ratio `1.23× (1.10–1.31)`. */
export function show(value: Stat, digits = 2, unit = '×'): string {
  return `${fmt(value.median, digits)}${unit} (${fmt(value.low, digits)}–${fmt(value.high, digits)})`
}

/** Prints rows as an aligned text table (console.table quotes strings and hides alignment). */
export function table(rows: ReadonlyArray<Record<string, string>>): void {
  const first = rows[0]
  if (first === undefined) return
  const columns = Object.keys(first)
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => (r[c] ?? '').length)))
  const line = (cells: string[]) =>
    `  ${cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ')}`
  console.log(line(columns))
  for (const row of rows) console.log(line(columns.map((c) => row[c] ?? '')))
}

/** A goal from an issue: `value` (a ratio over rounds, unless `unit` says) within its bound. */
export interface Target {
  readonly name: string
  readonly value: Stat
  readonly atLeast?: number
  readonly atMost?: number
  /** Default `×` (a ratio, 2 decimals); an absolute figure names its unit (`/s`, ` ms`). */
  readonly unit?: string
  /** The same contender against the physical limit of the work, shown beside a peer ratio. */
  readonly limit?: Stat
}

/** A target's line: PASS or MISS, judged on the median, with the spread over rounds. */
export function verdict(target: Target): string {
  const { name, value, atLeast, atMost, unit = '×' } = target
  const pass =
    (atLeast === undefined || value.median >= atLeast) &&
    (atMost === undefined || value.median <= atMost)
  const goal = atLeast !== undefined ? `≥ ${atLeast}` : `≤ ${atMost}`
  const digits = unit === '×' || unit === ' ms' ? 2 : 0
  const limit = target.limit ? `; vs the limit ${show(target.limit)}` : ''
  return `${pass ? 'PASS' : 'MISS'}  ${name}: ${show(value, digits, unit)} (target ${goal})${limit}`
}

/** Targets as Markdown rows (`| target | result | vs the limit |`), for the READMEs. */
export function markdown(list: readonly Target[]): string[] {
  return list.map((target) => {
    const { value, unit = '×', limit } = target
    const digits = unit === '×' || unit === ' ms' ? 2 : 0
    const [verdictWord] = verdict(target).split(' ')
    return `| ${target.name} | ${verdictWord} ${show(value, digits, unit)} | ${limit ? show(limit) : ''} |`
  })
}

/** Prints one PASS/MISS line per target. */
export function targets(list: readonly Target[]): void {
  console.log('')
  for (const target of list) console.log(`  ${verdict(target)}`)
}
