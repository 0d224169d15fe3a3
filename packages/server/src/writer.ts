import { createErrorPayload, formatEvent } from './format'
import type { KeepAlive, KeepAliveBucket, KeepAliveMember } from './keepalive'
import { unref } from './keepalive'
import type { HubMetrics } from './metrics'
import { count, type WriterSettings } from './settings'
import type { DisconnectReason, EventWriter, SendOutcome, SseEvent, StreamMetrics } from './types'

/**
 * Where bytes go. Node writes a `ServerResponse` directly; the web sink enqueues into a pull-based
 * `ReadableStream`. The writer owns every policy (coalescing, backpressure, terminal events).
 */
export interface Sink {
  /** Hands a chunk over; `false` means backpressured: wait for `onDrain` before writing more. */
  write(chunk: string): boolean
  /** Calls `listener` once when the transport can take more. */
  onDrain(listener: () => void): void
  /** Ends gracefully after what was written; the sink reports its close through its callback. */
  end(): void
  /** Drops the connection now (slow client, shutdown deadline). */
  destroy(): void
  /** Runs `task` once the current synchronous burst of sends is over (same tick, no timer). */
  schedule(task: () => void): void
  readonly bytesWritten: number
}

/** What a writer needs from its hub. */
export interface HubContext {
  readonly metrics: HubMetrics
  readonly keepAlive: KeepAlive
  release(handle: WriterHandle, reason: DisconnectReason): void
}

/** The hub's grip on one writer: the public writer plus lifecycle hooks. */
export interface WriterHandle {
  readonly writer: EventWriter
  /** Resolves once the transport is closed (or, for the web sink, handed its final chunk). */
  readonly done: Promise<void>
  /** The sink saw the connection end (client gone, socket error, or our own end completing). */
  sinkClosed(reason: DisconnectReason): void
  /** Ends with the `shutting-down` error and a `retry:` hint of `retryMs`. */
  shutdown(retryMs: number, message: string): void
  /** Cuts the connection now, whatever its state. */
  destroy(): void
  /** Writes the opening bytes and arms the expiry timers; called once the hub has registered it. */
  start(): void
}

const WRITTEN: Promise<SendOutcome> = Promise.resolve('written')
const CLOSED: Promise<SendOutcome> = Promise.resolve('closed')
const HEARTBEAT = ':\n\n'
// A producer that never yields to the event loop (its sends all resolve at once) would otherwise
// grow one batch without bound; past this size the batch goes out at once. 64 KiB amortises the
// per-write cost fully while keeping userland buffering small.
const FLUSH_AT = 64 * 1024
// setTimeout fires at once past 2^31-1 ms; a far expiry is re-checked at this horizon instead.
const MAX_TIMEOUT_MS = 2 ** 31 - 1
const UNGRACEFUL: ReadonlySet<DisconnectReason> = new Set(['client-closed', 'slow-client', 'error'])

/** Creates the writer over `sink`; nothing is written until `start()`. */
export function createWriter(
  sink: Sink,
  settings: WriterSettings,
  hub: HubContext,
  lastEventId: string | undefined,
): WriterHandle {
  const counters = hub.metrics.counters
  const controller = new AbortController()
  const openedAt = Date.now()
  const hwm = settings.highWaterMarkBytes
  const flushAt = Math.min(FLUSH_AT, hwm)
  let open = true
  // Frames accepted but not yet handed to the sink: same-tick sends, or sends made during a drain wait.
  let pending = ''
  let scheduled = false
  let draining = false
  let drainStartedAt = 0
  let drainPromise = WRITTEN
  let resolveDrain: (outcome: SendOutcome) => void = noop
  let drainTimer: ReturnType<typeof setTimeout> | undefined
  let endTimer: ReturnType<typeof setTimeout> | undefined
  let authTimer: ReturnType<typeof setTimeout> | undefined
  let lifeTimer: ReturnType<typeof setTimeout> | undefined
  let events = 0
  let backpressureCount = 0
  let backpressureMs = 0
  let drainTimeouts = 0
  let replayedEvents = 0
  let resumed = false
  let lastSentId: string | undefined
  let closeReason: DisconnectReason | undefined
  let resolveDone: () => void = noop
  const done = new Promise<void>((resolve) => {
    resolveDone = resolve
  })

  const member: KeepAliveMember = { lastWriteTick: 0, keepAlive: heartbeat }
  const bucket: KeepAliveBucket | undefined =
    settings.keepAliveMs > 0 ? hub.keepAlive.add(member, settings.keepAliveMs) : undefined

  function writeToSink(chunk: string): boolean {
    const before = sink.bytesWritten
    const ok = sink.write(chunk)
    counters.bytes += sink.bytesWritten - before
    if (bucket !== undefined) member.lastWriteTick = bucket.tick
    return ok
  }

  function enqueue(frame: string): Promise<SendOutcome> {
    pending += frame
    if (draining) {
      // Only a producer that does not await `send` gets here repeatedly; past the mark it is
      // the client that cannot keep up, and it resumes from the log later.
      if (pending.length > hwm) {
        abort('slow-client')
        return CLOSED
      }
      return drainPromise
    }
    if (pending.length >= flushAt) flush()
    else if (!scheduled) {
      scheduled = true
      sink.schedule(flushTask)
    }
    return WRITTEN
  }

  function flushTask(): void {
    scheduled = false
    flush()
  }

  function flush(): void {
    if (!open || draining || pending === '') return
    const chunk = pending
    pending = ''
    if (!writeToSink(chunk)) startDrain()
  }

  function startDrain(): void {
    draining = true
    drainStartedAt = Date.now()
    backpressureCount++
    counters.backpressureCount++
    drainPromise = new Promise((resolve) => {
      resolveDrain = resolve
    })
    drainTimer = setTimeout(onDrainTimeout, settings.drainTimeoutMs)
    unref(drainTimer)
    sink.onDrain(onDrain)
  }

  function onDrain(): void {
    if (!open || !draining) return
    clearTimeout(drainTimer)
    draining = false
    const waited = Date.now() - drainStartedAt
    backpressureMs += waited
    counters.backpressureMs += waited
    if (hub.metrics.observed) hub.metrics.emit({ type: 'backpressure', durationMs: waited })
    const resolve = resolveDrain
    resolveDrain = noop
    // What queued during the wait goes out now; it may start the next wait, with a new promise.
    flush()
    resolve('written')
  }

  function onDrainTimeout(): void {
    if (!open) return
    drainTimeouts++
    counters.drainTimeouts++
    if (hub.metrics.observed) hub.metrics.emit({ type: 'drain-timeout' })
    abort('slow-client')
  }

  function heartbeat(): void {
    // Skipped while backpressured: a heartbeat would only queue behind the data that is stuck.
    if (!open || draining || pending !== '') return
    if (!writeToSink(HEARTBEAT)) startDrain()
  }

  // Marks the writer closed; returns false if it already was.
  function seal(reason: DisconnectReason): boolean {
    if (!open) return false
    open = false
    closeReason = reason
    clearTimeout(drainTimer)
    clearTimeout(authTimer)
    clearTimeout(lifeTimer)
    if (bucket !== undefined) hub.keepAlive.remove(member, bucket)
    return true
  }

  function settle(reason: DisconnectReason, outcome: SendOutcome): void {
    draining = false
    const resolve = resolveDrain
    resolveDrain = noop
    resolve(outcome)
    hub.release(handle, reason)
    controller.abort(reason)
  }

  function abort(reason: DisconnectReason): void {
    if (!seal(reason)) return
    pending = ''
    sink.destroy()
    settle(reason, 'closed')
    resolveDone()
  }

  // Graceful close: queued frames and the terminal frame go out even while backpressured (the
  // transport buffers them); a client that never reads them is cut after `drainTimeoutMs`.
  function finish(reason: DisconnectReason, terminal: string): Promise<void> {
    if (!seal(reason)) return done
    const chunk = pending + terminal
    pending = ''
    if (chunk !== '') writeToSink(chunk)
    sink.end()
    endTimer = setTimeout(() => sink.destroy(), settings.drainTimeoutMs)
    unref(endTimer)
    settle(reason, 'written')
    return done
  }

  function errorFrame(payload: {
    code: string
    message: string
    retryable: boolean
    retryAfterMs?: number
  }) {
    // A `retry:` in the same block makes even a plain EventSource wait the advised time.
    const retry =
      payload.retryAfterMs !== undefined && Number.isSafeInteger(payload.retryAfterMs)
        ? payload.retryAfterMs
        : undefined
    return formatEvent({ retry, event: 'error', data: JSON.stringify(payload) })
  }

  function scheduleAuthExpiry(): void {
    const expiresAt = settings.expiresAt
    if (expiresAt === undefined) return
    let at: number
    try {
      at = typeof expiresAt === 'function' ? expiresAt() : expiresAt
    } catch {
      // Unknown credential state is treated as expired: closing early is safe, streaming on is not.
      at = 0
    }
    const delay = (Number.isFinite(at) ? at : 0) - settings.authLeadMs - Date.now()
    if (delay > 0) {
      authTimer = setTimeout(scheduleAuthExpiry, Math.min(delay, MAX_TIMEOUT_MS))
      unref(authTimer)
      return
    }
    if (!open) return
    counters.authExpiries++
    if (hub.metrics.observed) hub.metrics.emit({ type: 'auth-expired' })
    const data =
      lastSentId === undefined ? { expiresAt: at } : { expiresAt: at, lastEventId: lastSentId }
    void finish('auth-expired', formatEvent({ event: 'auth-expired', data: JSON.stringify(data) }))
  }

  const writer: EventWriter = {
    send(event: SseEvent): Promise<SendOutcome> {
      if (!open) return CLOSED
      const frame = formatEvent(event)
      events++
      counters.events++
      if (event.id !== undefined) lastSentId = String(event.id)
      return enqueue(frame)
    },
    comment(text) {
      if (!open) return CLOSED
      return enqueue(formatEvent({ comment: text }))
    },
    end(data = '{}') {
      if (!open) return done
      return finish('ended', formatEvent({ event: 'done', data }))
    },
    fail(error) {
      if (!open) return done
      try {
        settings.onError?.(error)
      } catch {
        // The error hook is for logging; its own failure must not cost the client its terminal event.
      }
      return finish(
        'error',
        errorFrame(createErrorPayload(error, { expose: settings.exposeErrors })),
      )
    },
    close(reason = 'ended') {
      if (UNGRACEFUL.has(reason)) abort(reason)
      else void finish(reason, '')
    },
    signal: controller.signal,
    get closed() {
      return !open
    },
    lastEventId,
    metrics(): StreamMetrics {
      return {
        events,
        bytes: sink.bytesWritten,
        backpressureCount,
        backpressureMs,
        drainTimeouts,
        resumed,
        replayedEvents,
        openedAt,
        closeReason,
      }
    },
    recordResume() {
      if (resumed) return
      resumed = true
      counters.resumes++
      if (hub.metrics.observed) hub.metrics.emit({ type: 'resume' })
    },
    recordReplayed(n) {
      count('replayed count', n)
      replayedEvents += n
      counters.replayedEvents += n
    },
  }

  const handle: WriterHandle = {
    writer,
    done,
    sinkClosed(reason) {
      clearTimeout(endTimer)
      abort(reason)
      resolveDone()
    },
    shutdown(retryMs, message) {
      const payload = { code: 'shutting-down', message, retryable: true, retryAfterMs: retryMs }
      void finish('shutdown', errorFrame(payload))
    },
    destroy() {
      clearTimeout(endTimer)
      abort('shutdown')
      sink.destroy()
      resolveDone()
    },
    start() {
      // The opening `retry:` hint and comment go out at once, so proxies and the client see the
      // response start before the first event exists.
      if (!writeToSink(formatEvent({ comment: 'ok', retry: settings.retryMs }))) startDrain()
      if (settings.expiresAt !== undefined) scheduleAuthExpiry()
      if (settings.maxDurationMs !== undefined) {
        lifeTimer = setTimeout(() => {
          const message = 'The connection reached its maximum lifetime; resume with Last-Event-ID.'
          void finish('timeout', errorFrame({ code: 'timeout', message, retryable: true }))
        }, settings.maxDurationMs)
        unref(lifeTimer)
      }
    },
  }
  return handle
}

function noop(): void {}
