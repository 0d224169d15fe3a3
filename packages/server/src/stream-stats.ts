// One connection's counters (its `StreamMetrics`), each added to the hub's totals as it happens.
import type { HubMetrics } from './metrics'
import { count } from './settings'
import type { DisconnectReason, StreamMetrics } from './types'

/**
 * A class like the writer, so that thousands of connections share its methods. Change events are
 * built only while the hub has listeners (`observed`).
 */
export class StreamStats {
  readonly #hub: HubMetrics
  readonly #openedAt = Date.now()
  #events = 0
  #backpressureCount = 0
  #backpressureMs = 0
  #drainTimeouts = 0
  #replayedEvents = 0
  #resumed = false

  constructor(hub: HubMetrics) {
    this.#hub = hub
  }

  event(): void {
    this.#events++
    this.#hub.counters.events++
  }

  /** Hub total only: the connection's own byte count is the sink's. */
  written(bytes: number): void {
    this.#hub.counters.bytes += bytes
  }

  backpressureStarted(): void {
    this.#backpressureCount++
    this.#hub.counters.backpressureCount++
  }

  backpressureEnded(waitedMs: number): void {
    this.#backpressureMs += waitedMs
    this.#hub.counters.backpressureMs += waitedMs
    if (this.#hub.observed) this.#hub.emit({ type: 'backpressure', durationMs: waitedMs })
  }

  drainTimedOut(): void {
    this.#drainTimeouts++
    this.#hub.counters.drainTimeouts++
    if (this.#hub.observed) this.#hub.emit({ type: 'drain-timeout' })
  }

  /** Hub total only: an expiry ends the connection, which its `closeReason` already says. */
  authExpired(): void {
    this.#hub.counters.authExpiries++
    if (this.#hub.observed) this.#hub.emit({ type: 'auth-expired' })
  }

  /** Counts a connection as resumed once, however often it is told. */
  resumed(): void {
    if (this.#resumed) return
    this.#resumed = true
    this.#hub.counters.resumes++
    if (this.#hub.observed) this.#hub.emit({ type: 'resume' })
  }

  replayed(n: number): void {
    count('replayed count', n)
    this.#replayedEvents += n
    this.#hub.counters.replayedEvents += n
  }

  snapshot(bytes: number, closeReason: DisconnectReason | undefined): StreamMetrics {
    return {
      events: this.#events,
      bytes,
      backpressureCount: this.#backpressureCount,
      backpressureMs: this.#backpressureMs,
      drainTimeouts: this.#drainTimeouts,
      resumed: this.#resumed,
      replayedEvents: this.#replayedEvents,
      openedAt: this.#openedAt,
      closeReason,
    }
  }
}
