import { readAuthDeadline } from './auth-deadline'
import { createErrorPayload } from './errors'
import { formatEvent } from './format'
import type { KeepAliveBucket, KeepAliveMember } from './keepalive'
import { unref } from './keepalive'
import type { WriterSettings } from './settings'
import type { HubContext, Sink } from './sink'
import { StreamStats } from './stream-stats'
import { authExpiredFrame, doneFrame, errorFrame, shutdownFrame, timeoutFrame } from './terminal'
import type { DisconnectReason, EventWriter, SendOutcome, SseEvent, StreamMetrics } from './types'

const WRITTEN: Promise<SendOutcome> = Promise.resolve('written')
const CLOSED: Promise<SendOutcome> = Promise.resolve('closed')
const SETTLED: Promise<void> = Promise.resolve()
// A bare comment line and no blank line: a blank line would make clients that dispatch every block
// (fetch-event-source) see an empty message per heartbeat. Written only between whole frames.
const HEARTBEAT = ':\n'
// A batch goes out at the end of the tick, or at once past this many UTF-16 units, so a producer
// that never yields cannot grow it without bound. About 12 KiB keeps a write of mostly-ASCII LLM
// text under Node's 16 KiB socket high-water mark, so `write()` takes it without a drain wait, and
// the text flattened per write stays in cache. Measured on chat-completion chunks without sockets:
// 64 KiB batches ran at 0.65× raw 64-event writes, 12–16 KiB batches at 0.78–0.88× (bench/).
const FLUSH_AT = 12 * 1024
const UNGRACEFUL: ReadonlySet<DisconnectReason> = new Set(['client-closed', 'slow-client', 'error'])

/**
 * One connection's writer. A class rather than a closure-built object: with thousands of idle
 * connections, per-connection closures (one per method) cost more memory than the socket itself.
 * The hub hands it out typed as `EventWriter`; the other public methods are the hub's lifecycle hooks.
 */
export class StreamWriter implements EventWriter, KeepAliveMember {
  readonly lastEventId: string | undefined
  lastWriteTick = 0

  readonly #sink: Sink
  readonly #settings: WriterSettings
  readonly #hub: HubContext
  // `signal` and `done` are made on first use: an AbortSignal and a promise are most of an idle
  // connection's own heap (about 0.9 of 1.5 KB), and a handler that never reads them has no
  // listener to tell. Closing first and reading later gets them already settled.
  #controller: AbortController | undefined
  #done: Promise<void> | undefined
  #transportClosed = false
  readonly #flushAt: number
  readonly #stats: StreamStats
  readonly #bucket: KeepAliveBucket | undefined
  #open = true
  // Frames accepted but not yet handed to the sink: same-tick sends, or sends during a drain wait.
  #pending = ''
  #scheduled = false
  #draining = false
  #drainStartedAt = 0
  #drainPromise = WRITTEN
  #resolveDrain: ((outcome: SendOutcome) => void) | undefined
  #resolveDone: (() => void) | undefined
  #drainTimer: ReturnType<typeof setTimeout> | undefined
  #endTimer: ReturnType<typeof setTimeout> | undefined
  #authTimer: ReturnType<typeof setTimeout> | undefined
  #lifeTimer: ReturnType<typeof setTimeout> | undefined
  // Kept as given: a numeric id is turned into text only if an `auth-expired` frame needs it.
  #lastSentId: string | number | undefined
  #closeReason: DisconnectReason | undefined

  constructor(
    sink: Sink,
    settings: WriterSettings,
    hub: HubContext,
    lastEventId: string | undefined,
  ) {
    this.#sink = sink
    this.#settings = settings
    this.#hub = hub
    this.lastEventId = lastEventId
    this.#lastSentId = settings.cursor
    this.#flushAt = Math.min(FLUSH_AT, settings.highWaterMarkBytes)
    this.#stats = new StreamStats(hub.metrics)
    this.#bucket =
      settings.keepAliveMs > 0 ? hub.keepAlive.add(this, settings.keepAliveMs) : undefined
  }

  get closed(): boolean {
    return !this.#open
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController()
      if (this.#closeReason !== undefined) this.#controller.abort(this.#closeReason)
    }
    return this.#controller.signal
  }

  /** Resolves once the transport is closed (or, for the web sink, handed its final chunk). */
  get done(): Promise<void> {
    this.#done ??= this.#transportClosed
      ? SETTLED
      : new Promise<void>((resolve) => {
          this.#resolveDone = resolve
        })
    return this.#done
  }

  send(event: SseEvent): Promise<SendOutcome> {
    if (!this.#open) return CLOSED
    const frame = formatEvent(event)
    this.#stats.event()
    if (event.id !== undefined) this.#lastSentId = event.id
    return this.#enqueue(frame)
  }

  comment(text: string): Promise<SendOutcome> {
    if (!this.#open) return CLOSED
    return this.#enqueue(formatEvent({ comment: text }))
  }

  end(data = '{}'): Promise<void> {
    if (!this.#open) return this.done
    return this.#finish('ended', doneFrame(data))
  }

  fail(error: unknown): Promise<void> {
    if (!this.#open) return this.done
    try {
      this.#settings.onError?.(error)
    } catch {
      // The error hook is for logging; its own failure must not cost the client its terminal event.
    }
    return this.#finish(
      'error',
      errorFrame(createErrorPayload(error, { expose: this.#settings.exposeErrors })),
    )
  }

  close(reason: DisconnectReason = 'ended'): void {
    if (UNGRACEFUL.has(reason)) this.#abort(reason)
    else void this.#finish(reason, '')
  }

  metrics(): StreamMetrics {
    return this.#stats.snapshot(this.#sink.bytesWritten, this.#closeReason)
  }

  /** Counts this connection as a resume (the registry's bookkeeping, not part of `EventWriter`). */
  recordResume(): void {
    this.#stats.resumed()
  }

  /** Counts events replayed from the log, already counted as sent by `send` (registry bookkeeping). */
  recordReplayed(n: number): void {
    this.#stats.replayed(n)
  }

  /** Writes the opening (`retry:` hint, comment, cursor block) at once, so that proxies and the client see the response start, and arms the timers. */
  start(): void {
    this.#write(this.#settings.opening)
    if (this.#settings.expiresAt !== undefined) this.checkAuthExpiry()
    if (this.#settings.maxDurationMs !== undefined) {
      this.#lifeTimer = setTimeout(expireLifetime, this.#settings.maxDurationMs, this)
      unref(this.#lifeTimer)
    }
  }

  /** The sink saw the connection end: client gone, socket error, or our own end completing. */
  sinkClosed(reason: DisconnectReason): void {
    clearTimeout(this.#endTimer)
    this.#abort(reason)
    this.#closeTransport()
  }

  /** Ends with the retryable `shutting-down` error and a `retry:` hint of `retryMs`. */
  shutdown(retryMs: number, message: string): void {
    void this.#finish('shutdown', shutdownFrame(retryMs, message))
  }

  /**
   * Ends without a terminal event after a `retry:` hint of this connection's `retryMs` plus
   * `jitterMs`: the client reconnects after it, to another instance if this one is going away.
   */
  handOff(jitterMs: number): void {
    void this.#finish('shutdown', formatEvent({ retry: this.#settings.retryMs + jitterMs }))
  }

  /** Cuts the connection now, whatever its state. */
  destroy(): void {
    clearTimeout(this.#endTimer)
    this.#abort('shutdown')
    this.#sink.destroy()
    this.#closeTransport()
  }

  /** The sink can take more: what queued during the wait goes out now. */
  drained(): void {
    if (!this.#open || !this.#draining) return
    this.#stopWaiting()
    const resolve = this.#resolveDrain
    this.#resolveDrain = undefined
    // May start the next wait, with a new promise, before this one's senders hear `written`.
    this.flush()
    resolve?.('written')
  }

  /** Hands the pending batch to the sink, unless closed or waiting for drain. */
  flush(): void {
    this.#scheduled = false
    if (!this.#open || this.#draining || this.#pending === '') return
    const chunk = this.#pending
    this.#pending = ''
    this.#write(chunk)
  }

  keepAlive(): void {
    // Skipped while backpressured: a heartbeat would only queue behind the data that is stuck.
    if (!this.#open || this.#draining || this.#pending !== '') return
    this.#write(HEARTBEAT)
  }

  /** The drain wait ran out: the client is not reading, so it goes, and resumes later from the log. */
  drainTimedOut(): void {
    if (!this.#open) return
    this.#stats.drainTimedOut()
    this.#abort('slow-client')
  }

  /** Ends the connection with a retryable `timeout` error at `maxDurationMs`. */
  expireLifetime(): void {
    void this.#finish('timeout', timeoutFrame())
  }

  /** Re-reads `expiresAt`: re-arms the timer, or sends `auth-expired` once inside the lead time. */
  checkAuthExpiry(): void {
    if (!this.#open) return
    const deadline = readAuthDeadline(this.#settings)
    if (deadline === undefined) return
    if (deadline.delay > 0) {
      this.#authTimer = setTimeout(checkAuthExpiry, deadline.delay, this)
      unref(this.#authTimer)
      return
    }
    this.#stats.authExpired()
    void this.#finish('auth-expired', authExpiredFrame(deadline.at, idText(this.#lastSentId)))
  }

  #enqueue(frame: string): Promise<SendOutcome> {
    if (this.#draining) {
      // Only a producer that does not await `send` queues a second frame during a drain; past the
      // mark it is the client that cannot keep up, and it resumes from the log later. One frame
      // alone, however large, is never "slow": the sink takes it and drains it in its own time.
      if (
        this.#pending !== '' &&
        this.#pending.length + frame.length > this.#settings.highWaterMarkBytes
      ) {
        this.#abort('slow-client')
        return CLOSED
      }
      this.#pending += frame
      return this.#drainPromise
    }
    this.#pending += frame
    if (this.#pending.length >= this.#flushAt) this.flush()
    else if (!this.#scheduled) {
      this.#scheduled = true
      this.#sink.schedule(flushWriter, this)
    }
    return WRITTEN
  }

  #write(chunk: string): void {
    const before = this.#sink.bytesWritten
    const ok = this.#sink.write(chunk)
    this.#stats.written(this.#sink.bytesWritten - before)
    if (this.#bucket !== undefined) this.lastWriteTick = this.#bucket.tick
    if (!ok && this.#open) this.#startDrain()
  }

  #startDrain(): void {
    this.#draining = true
    this.#drainStartedAt = Date.now()
    this.#stats.backpressureStarted()
    this.#drainPromise = new Promise((resolve) => {
      this.#resolveDrain = resolve
    })
    this.#drainTimer = setTimeout(drainTimedOut, this.#settings.drainTimeoutMs, this)
    unref(this.#drainTimer)
    this.#sink.onDrain(this)
  }

  // Ends a drain wait however it ended (drain, drain timeout, disconnect, shutdown) and counts its
  // time, so that the clients that never drain show in backpressure time too.
  #stopWaiting(): void {
    if (!this.#draining) return
    clearTimeout(this.#drainTimer)
    this.#draining = false
    this.#stats.backpressureEnded(Date.now() - this.#drainStartedAt)
  }

  // Marks the writer closed; false if it already was.
  #seal(reason: DisconnectReason): boolean {
    if (!this.#open) return false
    this.#open = false
    this.#closeReason = reason
    this.#stopWaiting()
    clearTimeout(this.#authTimer)
    clearTimeout(this.#lifeTimer)
    if (this.#bucket !== undefined) this.#hub.keepAlive.remove(this, this.#bucket)
    return true
  }

  #settle(reason: DisconnectReason, outcome: SendOutcome): void {
    const resolve = this.#resolveDrain
    this.#resolveDrain = undefined
    resolve?.(outcome)
    this.#hub.release(this, reason)
    this.#controller?.abort(reason)
  }

  #closeTransport(): void {
    this.#transportClosed = true
    this.#resolveDone?.()
  }

  #abort(reason: DisconnectReason): void {
    if (!this.#seal(reason)) return
    this.#pending = ''
    this.#sink.destroy()
    this.#settle(reason, 'closed')
    this.#closeTransport()
  }

  // Graceful close: queued frames and the terminal frame go out even while backpressured (the
  // transport buffers them); a client that never reads them is cut after `drainTimeoutMs`.
  #finish(reason: DisconnectReason, terminal: string): Promise<void> {
    if (!this.#seal(reason)) return this.done
    const chunk = this.#pending + terminal
    this.#pending = ''
    if (chunk !== '') this.#write(chunk)
    // Armed before `end()`, because a sink that closes synchronously (web) clears it right there.
    this.#endTimer = setTimeout(destroySink, this.#settings.drainTimeoutMs, this.#sink)
    unref(this.#endTimer)
    this.#sink.end()
    this.#settle(reason, 'written')
    return this.done
  }
}

const idText = (id: string | number | undefined) => (id === undefined ? undefined : String(id))

// Module-level callbacks with the writer as argument: no per-connection closures.
function flushWriter(writer: StreamWriter): void {
  writer.flush()
}

function drainTimedOut(writer: StreamWriter): void {
  writer.drainTimedOut()
}

function expireLifetime(writer: StreamWriter): void {
  writer.expireLifetime()
}

function destroySink(sink: Sink): void {
  sink.destroy()
}

function checkAuthExpiry(writer: StreamWriter): void {
  writer.checkAuthExpiry()
}
