import type { DisconnectReason, MetricsChange, MetricsSnapshot } from './types'

/** The hub's live counters; writers bump them directly (a property increment per event). */
export interface Counters {
  activeStreams: number
  openedStreams: number
  events: number
  bytes: number
  backpressureCount: number
  backpressureMs: number
  drainTimeouts: number
  readonly disconnects: Record<DisconnectReason, number>
  resumes: number
  replayedEvents: number
  authExpiries: number
}

/** Counters plus change listeners, shared by all writers of one hub. */
export interface HubMetrics {
  readonly counters: Counters
  /** True when someone listens, so writers skip building change objects otherwise. */
  readonly observed: boolean
  emit(change: MetricsChange): void
  snapshot(): MetricsSnapshot
  subscribe(listener: (change: MetricsChange) => void): () => void
}

/** Creates zeroed counters and an empty listener set. */
export function createHubMetrics(): HubMetrics {
  const listeners = new Set<(change: MetricsChange) => void>()
  const counters: Counters = {
    activeStreams: 0,
    openedStreams: 0,
    events: 0,
    bytes: 0,
    backpressureCount: 0,
    backpressureMs: 0,
    drainTimeouts: 0,
    disconnects: {
      'client-closed': 0,
      'slow-client': 0,
      error: 0,
      ended: 0,
      shutdown: 0,
      'auth-expired': 0,
      timeout: 0,
    },
    resumes: 0,
    replayedEvents: 0,
    authExpiries: 0,
  }
  return {
    counters,
    get observed() {
      return listeners.size > 0
    },
    emit(change) {
      for (const listener of listeners) {
        // A metrics hook runs inside send/close paths; its failure must not break a stream.
        try {
          listener(change)
        } catch {}
      }
    },
    snapshot() {
      return { ...counters, disconnects: { ...counters.disconnects } }
    },
    subscribe(listener) {
      listeners.add(listener)
      return () => {
        listeners.delete(listener)
      }
    },
  }
}
