import { afterEach } from 'vitest'
import type { EventInput, EventLog, LoggedEvent } from '../log'

/** Limits a contract test asks its log for; a factory must honour each one it is given. */
export interface EventLogContractLimits {
  readonly maxEvents?: number | undefined
  readonly maxBytes?: number | undefined
  readonly ttlMs?: number | undefined
  readonly maxStreamAgeMs?: number | undefined
}

/** Tuning for a backend; the defaults suit the memory log. */
export interface EventLogContractOptions {
  /** Prefix of every stream id, so that runs sharing one backend never collide. */
  readonly streamPrefix?: string | undefined
  /** How long to poll for time-based effects (TTL, max age) before failing. */
  readonly expiryTimeoutMs?: number | undefined
  /** Seeds for the randomised concurrent hand-off test; a failure prints the seed to replay. */
  readonly seeds?: readonly number[] | undefined
}

/** Builds one log per call; the contract closes it after the test. */
export type CreateLog = (limits: EventLogContractLimits) => Promise<EventLog> | EventLog

/** A `LoggedEvent` with `event` present only when set, so that implementations compare equal. */
export const plain = (e: LoggedEvent) =>
  e.event === undefined ? { id: e.id, data: e.data } : { id: e.id, event: e.event, data: e.data }

export async function collect(events: AsyncIterable<LoggedEvent>): Promise<LoggedEvent[]> {
  const out: LoggedEvent[] = []
  for await (const event of events) out.push(plain(event))
  return out
}

/** Lets timers and I/O run, so that a reader really reaches its live tail. */
export const macrotask = () => new Promise<void>((resolve) => setTimeout(resolve, 0))

/** Small deterministic PRNG (mulberry32), so a failing interleaving can be replayed by seed. */
export function random(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** What every group of contract tests builds on. */
export interface ContractKit {
  readonly expiryTimeoutMs: number
  readonly seeds: readonly number[]
  /** A new log with `limits`, closed after the test. */
  logWith(limits?: EventLogContractLimits): Promise<EventLog>
  /** A fresh stream id under the run's prefix. */
  newId(): string
  /** A new log with one created stream. */
  stream(limits?: EventLogContractLimits): Promise<{ log: EventLog; id: string }>
  /** Appends in order, one at a time, and returns the ids. */
  appendAll(log: EventLog, id: string, inputs: EventInput[]): Promise<string[]>
  /** `n` `delta` events numbered from `from`. */
  deltas(n: number, from?: number): EventInput[]
}

/** Call inside a `describe`: registers the after-test cleanup and returns the helpers. */
export function useContractKit(
  createLog: CreateLog,
  options: EventLogContractOptions,
): ContractKit {
  const prefix = options.streamPrefix ?? 'contract:'
  const opened: EventLog[] = []
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((log) => log.close()))
  })
  const logWith = async (limits: EventLogContractLimits = {}): Promise<EventLog> => {
    const log = await createLog(limits)
    opened.push(log)
    return log
  }
  const newId = () => `${prefix}${crypto.randomUUID()}`
  return {
    expiryTimeoutMs: options.expiryTimeoutMs ?? 5_000,
    seeds: options.seeds ?? [1, 2, 3],
    logWith,
    newId,
    async stream(limits = {}) {
      const log = await logWith(limits)
      const id = newId()
      await log.create(id)
      return { log, id }
    },
    async appendAll(log, id, inputs) {
      const ids: string[] = []
      for (const input of inputs) ids.push(await log.append(id, input))
      return ids
    },
    deltas: (n, from = 0) =>
      Array.from({ length: n }, (_, i) => ({ event: 'delta', data: `token ${from + i}` })),
  }
}
