/**
 * The producer side of one log instance: the streams it created (and so produces), their lease
 * heartbeats and age limits, cancel listeners, and the sweep over streams its readers tail: it
 * declares other instances' producers lost, and notices streams that vanished from Redis and
 * outages longer than a lease, so that no reader waits for ever. One interval timer serves all.
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
  /** A watched or owned stream's keys are gone from Redis: its readers must not wait for more. */
  readonly onVanished: (streamId: string) => void
  /** Redis has answered nothing for about `leaseMs`: tailing readers must not wait for it. */
  readonly onUnreachable: () => void
}

/** Heartbeats per lease: the lease outlives two missed beats. */
const TICKS_PER_LEASE = 3

export interface Ownership {
  own(streamId: string): void
  owns(streamId: string): boolean
  /**
   * Stops a stream: after a failed append (no later append may land behind the hole), or because
   * its keys vanished from Redis. Its producer's next append or complete is refused with why.
   */
  fail(streamId: string, fault: Fault): void
  fault(streamId: string): Fault | undefined
  /** Forgets a stream that ended (completed here, or ended elsewhere). */
  release(streamId: string): void
  fireCancel(streamId: string): void
  onCancel(streamId: string, listener: () => void): () => void
  /** Whether the blocking tail must keep reading this instance's mailbox. */
  busy(): boolean
  close(): void
}

/** Why an owned stream stopped before its producer ended it. */
export type Fault = 'failed' | 'vanished'

interface Owned {
  fault: Fault | undefined
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

  const fail = (streamId: string, fault: Fault) => {
    const record = owned.get(streamId)
    if (record) record.fault = fault
    if (fault === 'vanished') options.onVanished(streamId)
  }

  const release = (streamId: string) => {
    const record = owned.get(streamId)
    if (record) clearTimeout(record.ageTimer)
    owned.delete(streamId)
    cancelled.delete(streamId)
    listeners.delete(streamId)
  }

  // Ticks in a row in which Redis answered nothing; a lease's worth means an outage, not a blip.
  let unanswered = 0

  const tick = async () => {
    if (ticking) return
    ticking = true
    const beat = async (streamId: string, record: Owned) => {
      // Any answer means Redis is back and the stream now ends in a retryable error.
      const status =
        record.fault === 'failed'
          ? await options.end(streamId, 'failed')
          : await options.heartbeat(streamId)
      if (status === 'unknown-stream') fail(streamId, 'vanished')
      else if (status === 'cancelled') fireCancel(streamId)
      else if (status !== 'live') release(streamId)
    }
    const watch = async (streamId: string) => {
      // Ends the stream as lost when its producer's lease is gone; unknown when its keys are.
      if ((await options.end(streamId, 'lost', true)) === 'unknown-stream') {
        options.onVanished(streamId)
      }
    }
    const watched = options.tailedStreams().filter((streamId) => !owned.has(streamId))
    // A failed beat is retried on the next tick; the lease outlives two missed beats.
    // A vanished stream has nothing left to beat; it stays owned until its producer hears why
    // (next append or complete), so that it is not told "no such stream". Readers that began
    // tailing it since (one paused mid-replay by a slow client) are told now: their XREAD would
    // block on keys that no longer exist, for ever.
    const beating: [string, Owned][] = []
    for (const entry of owned) {
      if (entry[1].fault === 'vanished') options.onVanished(entry[0])
      else beating.push(entry)
    }
    const results = await Promise.allSettled([
      ...beating.map(([streamId, record]) => beat(streamId, record)),
      ...watched.map(watch),
    ])
    const answered = results.length === 0 || results.some((r) => r.status === 'fulfilled')
    unanswered = answered ? 0 : unanswered + 1
    if (unanswered >= TICKS_PER_LEASE) {
      unanswered = 0
      options.onUnreachable()
    }
    ticking = false
  }

  const timer = setInterval(
    () => void tick(),
    Math.max(10, Math.floor(options.leaseMs / TICKS_PER_LEASE)),
  )
  timer.unref()

  return {
    own(streamId) {
      // The same id again (Redis lost the first stream, its keyed POST came back here): the old
      // stream's age timer and cancel flag must not end the new one.
      clearTimeout(owned.get(streamId)?.ageTimer)
      cancelled.delete(streamId)
      const ageTimer = setTimeout(() => {
        // Ask the producer to stop, then end readers: a stream nobody completes must still end.
        fireCancel(streamId)
        options.complete(streamId).catch(() => {})
      }, options.maxStreamAgeMs)
      ageTimer.unref()
      owned.set(streamId, { fault: undefined, ageTimer })
    },
    owns: (streamId) => owned.has(streamId),
    fail,
    fault: (streamId) => owned.get(streamId)?.fault,
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
