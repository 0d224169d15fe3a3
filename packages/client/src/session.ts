import { cancelStream } from './cancel'
import type { UnbrokenClientError } from './errors'
import { createFrameScheduler } from './frame-scheduler'
import type { ServerSentEvent } from './parser'
import { createIdempotencyKey } from './request'
import { loadStream, type StreamRequest, storeStream } from './session-storage'
import type { EventStreamRequest, StreamSessionOptions, StreamSessionView } from './session-types'
import { createEventStream } from './stream'
import type { CloseInfo, EventStream, EventStreamOptions, EventStreamSnapshot } from './types'

/** What identifies a session's stream: a URL's href, or the request object itself; `null` is none. */
export type StreamRequestKey = string | Exclude<EventStreamRequest, string | URL> | null

/** What `open` sends: a saved request, or a new one whose body may be any `BodyInit`. */
interface OpenRequest extends Pick<EventStreamOptions, 'method' | 'body' | 'idempotencyKey'> {
  readonly url: string | URL
}

/** The key of a request, the same for equal URLs: a binding subscribes anew when it changes. */
export const requestKeyOf = (request: EventStreamRequest | null): StreamRequestKey =>
  request instanceof URL ? request.href : request

/**
 * The retry options of a stream replaced or unmounted while its stop() waited for its answer (see
 * `disconnect`): it still hears that answer, to stop its generation, but never sends its request
 * again (a keyed POST would be re-sent after a failure), since nobody shows it any more. No
 * attempt left also means no credential refresh.
 */
const ORPHANED: EventStreamOptions = { maxAttempts: 0, shouldRetry: undefined }

const IDLE = {
  status: 'idle',
  url: '',
  lastEventId: '',
  attempt: 0,
  error: undefined,
  closeReason: undefined,
  events: 0,
  reconnects: 0,
  timeToFirstByteMs: undefined,
  replayed: 0,
} as const

/**
 * The external store behind one UI binding (a hook): it owns the stream of the current request,
 * folds its events into the state as they arrive, and publishes a view at most once per animation
 * frame. It opens the stream on subscribe and closes the connection (never the generation) when
 * the last listener has left for good, so that StrictMode's extra subscribe sends nothing.
 * `options` is called whenever they are needed, so the latest render's callbacks apply.
 */
export function createStreamSession<S>(options: () => StreamSessionOptions<S>) {
  const initialState = (): S => {
    const { initialState } = options()
    return typeof initialState === 'function' ? (initialState as () => S)() : initialState
  }
  let key: StreamRequestKey = null
  let state = initialState()
  let view: StreamSessionView<S> = { ...IDLE, state }
  const serverView = view
  const listeners = new Set<() => void>()
  let stream: EventStream | undefined
  let stopListening: (() => void) | undefined
  /** The current stream's client snapshot as last seen (kept after a detach, to re-attach). */
  let seen: EventStreamSnapshot | undefined
  /** Where to resume and cancel: the `Content-Location` once a response gave one. */
  let location: string | undefined
  /** Until then, the request to send again after a reload (a POST with a text body). */
  let unanswered: StreamRequest | undefined
  /** The id of the last event folded into `state`. */
  let position = ''
  /** The last event of the replay in progress (agreement A3's `Unbroken-Replay-Through`). */
  let replayThrough: string | null = null
  let stopWhenOpen = false
  /** stop() was called on this request's stream: however it ends now, it ends as the user's stop. */
  let stopped = false
  let mounted = false

  const publish = (next: StreamSessionView<S>) => {
    view = next
    for (const listener of listeners) listener()
  }

  // A replay is published whole, once its last event is in: one commit, not one per frame.
  const flush = () => {
    if (!seen || replayThrough) return
    const { bytes: _bytes, ...snapshot } = seen
    publish({ ...snapshot, state })
  }
  const frame = createFrameScheduler(flush)

  const forget = () => storeStream(options().id)

  /** Opens the stream of `request`: a `GET` of a known stream, or the request itself. */
  const open = ({ url, method, body, idempotencyKey }: OpenRequest) => {
    stopWhenOpen = false
    const own: EventStreamOptions = {
      method,
      body,
      idempotencyKey,
      lastEventId: position,
      onOpen(response) {
        if (current !== stream) {
          // Replaced or unmounted while its stop() waited for this answer (see `disconnect`):
          // stop the generation now that its URL is known, then let it go. Nobody shows the
          // outcome any more, so a failed DELETE has nowhere to go.
          cancelStream(current.url, options()).catch(() => {})
          return current.close()
        }
        location = current.url
        replayThrough = response.headers.get('unbroken-replay-through')
        // Saved at once too: a tab killed without `pagehide` can still re-attach from here.
        persist()
        if (stopWhenOpen) void stop()
      },
      onEvent(event: ServerSentEvent) {
        state = options().reducer(state, event)
        position = event.lastEventId
        if (position === replayThrough) replayThrough = null
      },
      onClose(info: CloseInfo) {
        // A stream that ended has nothing left to re-attach to.
        if (current === stream && info.reason !== 'aborted') forget()
      },
    }
    // The other options are read at use time, so the latest render's headers and callbacks apply.
    // (The retry options are only read after a failure, once `current` is set.)
    const current = createEventStream(
      url,
      new Proxy(own, {
        get: (target, name: keyof EventStreamOptions) =>
          (name in ORPHANED && current !== stream
            ? ORPHANED
            : name in target
              ? target
              : (options() as EventStreamOptions))[name],
      }),
    )
    stream = current
    seen = current.getSnapshot()
    stopListening = current.subscribe(() => {
      const previous = seen as EventStreamSnapshot
      seen = current.getSnapshot()
      // A final error that crossed the stop on the wire: the user's intent wins (closed, aborted).
      if (stopped && seen.closeReason === 'error')
        seen = { ...seen, closeReason: 'aborted', error: undefined }
      if (seen.status !== previous.status) replayThrough = null
      // Only `bytes` changed (a keepalive): nothing to render.
      for (const name in seen) {
        const field = name as keyof EventStreamSnapshot
        if (field !== 'bytes' && seen[field] !== previous[field]) return frame.schedule()
      }
    })
    flush()
  }

  const disconnect = () => {
    frame.cancel()
    stopListening?.()
    // A stream whose stop() waits for the server's answer stays open until it comes (`onOpen`):
    // aborting it would leave its generation running, with nobody knowing where to stop it.
    if (!stopWhenOpen) stream?.close()
    stream = undefined
  }

  const start = (next: StreamRequestKey) => {
    disconnect()
    key = next
    stopped = false
    state = initialState()
    position = ''
    location = seen = unanswered = undefined
    if (next === null) return publish({ ...IDLE, state })
    const { url, method, body } = typeof next === 'string' ? { url: next } : next
    // The key is chosen here, not by the client, so that it can be saved with the request.
    const { idempotencyKey = createIdempotencyKey() } = options()
    if (idempotencyKey && typeof body === 'string')
      unanswered = { url: String(url), method, body, idempotencyKey }
    open({ url, method, body, idempotencyKey })
    persist()
  }

  const live = () => stream && seen?.status !== 'closed'

  const persist = () => {
    const request = location ? { url: location } : unanswered
    if (request && live()) storeStream(options().id, { ...request, lastEventId: position, state })
  }

  const stop = async () => {
    const current = stream
    if (!live()) return
    stopped = true
    if (!location) {
      stopWhenOpen = true
      return
    }
    try {
      await cancelStream(location, options())
      // Waiting out a backoff, the stream would show `reconnecting` until then: read the rest,
      // up to the cancelled `done`, now.
      if (stream === current && seen?.status === 'reconnecting') {
        disconnect()
        open({ url: location })
      }
    } catch (error) {
      if (stream !== current) return
      // The user asked to stop: stop showing the stream either way, and say why it may still run
      // (not stopped: a retry that then fails shows its failure).
      stopped = false
      forget()
      disconnect()
      seen = {
        ...(seen as EventStreamSnapshot),
        status: 'closed',
        closeReason: 'error',
        error: error as UnbrokenClientError,
      }
      flush()
    }
  }

  const onPageChange = () => {
    // Hidden or unloading: render what arrived meanwhile, and save the place for a reload.
    frame.flushNow()
    persist()
  }
  const listen = (method: 'addEventListener' | 'removeEventListener') => {
    for (const type of ['visibilitychange', 'pagehide']) globalThis[method]?.(type, onPageChange)
  }

  const attach = (next: StreamRequestKey) => {
    const saved = mounted ? undefined : loadStream<S>(options().id)
    mounted = true
    if (saved) {
      // A reload mid-stream: re-attach by GET from the saved position, never send it again
      // (unless the server had not answered: then the same POST with the same key).
      key = next
      state = saved.state
      position = saved.lastEventId
      if (saved.method) unanswered = saved
      else location = saved.url
      open(saved)
    } else if (next !== key) start(next)
    else if (!stream && location && seen?.status !== 'closed') open({ url: location })
  }

  const detach = () => {
    listen('removeEventListener')
    if (options().stopOnUnmount) {
      void stop()
      forget()
    } else persist()
    disconnect()
  }

  return {
    getSnapshot: () => view,
    getServerSnapshot: () => serverView,
    subscribe(next: StreamRequestKey, listener: () => void) {
      listeners.add(listener)
      listen('addEventListener')
      attach(next)
      return () => {
        listeners.delete(listener)
        // StrictMode unsubscribes and subscribes again in the same task, and so does a new
        // request: only a detach still due after that is an unmount.
        queueMicrotask(() => {
          if (!listeners.size) detach()
        })
      }
    },
    stop,
    retry() {
      // Only a failure is retried: after `done` or a stop, it would start another generation.
      if (seen?.closeReason !== 'error') return
      const code = seen.error?.code
      // Resume where only the connection failed; send again where the stream itself ended.
      if (location && code !== 'server-error' && code !== 'resume-failed') {
        disconnect()
        open({ url: location })
      } else if (key !== null) start(key)
    },
    reset() {
      void stop()
      forget()
      start(null)
    },
  }
}

export type StreamSession<S> = ReturnType<typeof createStreamSession<S>>
