/**
 * The producer side of one log instance: the streams it created (and so produces), their lease
 * heartbeats and age limits, cancel listeners, and the sweep that declares other instances'
 * producers lost. One interval timer serves them all.
 */

export interface OwnershipOptions {
  readonly leaseMs: number
  readonly maxStreamAgeMs: number
  /** Refreshes the lease; answers live, cancelled, or the status that ended the stream. */
  readonly heartbeat: (streamId: string) => Promise<string>
  /** Writes a terminal marker; with `ifLeaseGone`, only when no producer heartbeats any more. */
  readonly end: (
    streamId: string,
    reason: 'complete' | 'lost' | 'failed',
    ifLeaseGone?: boolean,
  ) => Promise<string>
  /** Streams this instance's readers are tailing, whose producers must be watched. */
  readonly tailedStreams: () => string[]
  readonly complete: (streamId: string) => Promise<void>
}

export interface Ownership {
  own(streamId: string): void
  /** Stops a stream after an append failed: no later append may land behind the hole. */
  fail(streamId: string): void
  failed(streamId: string): boolean
  /** Forgets a stream that ended (completed here, or ended elsewhere). */
  release(streamId: string): void
  fireCancel(streamId: string): void
  onCancel(streamId: string, listener: () => void): () => void
  /** Whether the blocking tail must keep reading this instance's mailbox. */
  busy(): boolean
  close(): void
}

interface Owned {
  failed: boolean
  readonly ageTimer: ReturnType<typeof setTimeout>
}

export function createOwnership(options: OwnershipOptions): Ownership {
  const owned = new Map<string, Owned>()
  const listeners = new Map<string, Set<() => void>>()
  const cancelled = new Set<string>()
  let ticking = false

  const fireCancel = (streamId: string) => {
    if (owned.has(streamId)) cancelled.add(streamId)
    const set = listeners.get(streamId)
    listeners.delete(streamId)
    for (const listener of set ?? []) listener()
  }

  const release = (streamId: string) => {
    const record = owned.get(streamId)
    if (record) clearTimeout(record.ageTimer)
    owned.delete(streamId)
    cancelled.delete(streamId)
    listeners.delete(streamId)
  }

  const tick = async () => {
    if (ticking) return
    ticking = true
    const beat = async (streamId: string, record: Owned) => {
      if (record.failed) {
        // Any answer means Redis is back and the stream now ends in a retryable error.
        await options.end(streamId, 'failed')
        release(streamId)
        return
      }
      const status = await options.heartbeat(streamId)
      if (status === 'cancelled') fireCancel(streamId)
      else if (status !== 'live') release(streamId)
    }
    const sweep = options
      .tailedStreams()
      .filter((streamId) => !owned.has(streamId))
      .map((streamId) => options.end(streamId, 'lost', true))
    const beats = [...owned].map(([streamId, record]) => beat(streamId, record))
    // A failed beat is retried on the next tick; the lease outlives two missed beats.
    await Promise.allSettled([...beats, ...sweep])
    ticking = false
  }

  const timer = setInterval(() => void tick(), Math.max(10, Math.floor(options.leaseMs / 3)))
  timer.unref()

  return {
    own(streamId) {
      const ageTimer = setTimeout(() => {
        // Ask the producer to stop, then end readers: a stream nobody completes must still end.
        fireCancel(streamId)
        options.complete(streamId).catch(() => {})
      }, options.maxStreamAgeMs)
      ageTimer.unref()
      owned.set(streamId, { failed: false, ageTimer })
    },
    fail(streamId) {
      const record = owned.get(streamId)
      if (record) record.failed = true
    },
    failed: (streamId) => owned.get(streamId)?.failed === true,
    release,
    fireCancel,
    onCancel(streamId, listener) {
      if (cancelled.has(streamId)) {
        // The cancel came first; still honour it so the producer stops.
        queueMicrotask(listener)
        return () => {}
      }
      let set = listeners.get(streamId)
      if (!set) {
        set = new Set()
        listeners.set(streamId, set)
      }
      set.add(listener)
      return () => {
        set.delete(listener)
        if (set.size === 0 && listeners.get(streamId) === set) listeners.delete(streamId)
      }
    },
    busy: () => owned.size > 0 || listeners.size > 0,
    close() {
      clearInterval(timer)
      for (const record of owned.values()) clearTimeout(record.ageTimer)
      owned.clear()
      listeners.clear()
      cancelled.clear()
    },
  }
}
