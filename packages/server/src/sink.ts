import type { KeepAlive } from './keepalive'
import type { HubMetrics } from './metrics'
import type { DisconnectReason } from './types'
import type { StreamWriter } from './writer'

/**
 * Where bytes go. Node writes a `ServerResponse` directly; the web sink enqueues into a pull-based
 * `ReadableStream`. The writer owns every policy (coalescing, backpressure, terminal events).
 */
export interface Sink {
  /** Hands a chunk over; `false` means backpressured: wait for `onDrain` before writing more. */
  write(chunk: string): boolean
  /** Calls `writer.drained()` once when the transport can take more. */
  onDrain(writer: StreamWriter): void
  /** Ends gracefully after what was written; the sink then reports `sinkClosed`. */
  end(): void
  /** Drops the connection now (slow client, shutdown deadline). */
  destroy(): void
  /** Runs `task(writer)` once the current synchronous burst of sends is over (same tick, no timer). */
  schedule(task: (writer: StreamWriter) => void, writer: StreamWriter): void
  readonly bytesWritten: number
}

/** What a writer needs from its hub. */
export interface HubContext {
  readonly metrics: HubMetrics
  readonly keepAlive: KeepAlive
  release(writer: StreamWriter, reason: DisconnectReason): void
}
