// Writes a stream's output to the event log in order without ever making the upstream wait.
// One append is in flight at a time; whatever arrives meanwhile is merged and goes out with the
// next one. So a fast log costs one append per upstream chunk and adds no latency (there is no
// timer), and a slow log (Redis under load) costs fewer, larger appends instead of a backlog.

/** A queue of items written in order by one writer at a time. */
export interface Appender<T> {
  /** Queues items; never waits. Ignored after a write failed. */
  push(items: readonly T[]): void
  /** Resolves once everything pushed is written; rejects with the first write failure. */
  flush(): Promise<void>
  /** Writes made so far (each one `write` call). */
  readonly writes: number
}

export interface AppenderOptions<T> {
  /** Adds `item` to the pending batch, merging it into the last pending item when it can. */
  readonly merge: (pending: T[], item: T) => void
  /** Writes one batch; the next batch waits for it. */
  readonly write: (batch: T[]) => Promise<void>
  /** Called once, with the first write failure; nothing is written after it. */
  readonly onFailure: (error: unknown) => void
}

export function createAppender<T>(options: AppenderOptions<T>): Appender<T> {
  let pending: T[] = []
  let running: Promise<void> | undefined
  let failure: { error: unknown } | undefined
  let writes = 0

  const pump = async () => {
    try {
      while (pending.length > 0 && !failure) {
        const batch = pending
        pending = []
        writes += 1
        await options.write(batch)
      }
    } catch (error) {
      failure = { error }
      pending = []
      options.onFailure(error)
    } finally {
      // Runs in the same microtask as the last emptiness check, so no push can fall between them.
      running = undefined
    }
  }

  return {
    push(items) {
      if (failure) return
      for (const item of items) options.merge(pending, item)
      if (!running && pending.length > 0) running = pump()
    },
    async flush() {
      while (running) await running
      if (failure) throw failure.error
    },
    get writes() {
      return writes
    },
  }
}
