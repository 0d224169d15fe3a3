import { MAX_RETRY_MS, MAX_TIMER_MS, wait } from './backoff'
import { isEventStream, readErrorJson, responseError } from './classify'
import { connect } from './connection'
import { createConnectionEvents } from './connection-events'
import { UnbrokenClientError } from './errors'
import type { ServerSentEvent } from './parser'
import { createQueue } from './queue'
import { buildRequest, createIdempotencyKey, toByteString } from './request'
import { createResumeGuard } from './resume-guard'
import { decideRetry } from './retry'
import { createStore } from './store'
import type { EventStream, EventStreamCloseReason, EventStreamOptions } from './types'

type Callback = 'onOpen' | 'onEvent' | 'onReconnect'

/**
 * Opens a Server-Sent Events stream over `fetch` that resumes from the last dispatched event after
 * any drop, drops what a server repeats, backs off with jitter, refreshes credentials once per
 * expiry, and never re-sends a POST that may have started work unless its Idempotency-Key lets
 * the server attach the repeat to that work.
 */
export function createEventStream(
  input: string | URL,
  options: EventStreamOptions = {},
): EventStream {
  const { signal, random = Math.random } = options
  const firstRequestIsGet = /^get$/i.test(options.method ?? 'GET')
  const idempotencyKey = firstRequestIsGet
    ? undefined
    : options.idempotencyKey === false
      ? undefined
      : (options.idempotencyKey ?? createIdempotencyKey())
  const initialId = options.lastEventId ?? ''
  let url: string
  let origins: string[]
  let resumeUrl: URL | undefined
  try {
    // Relative URLs resolve against the page, as EventSource's do.
    url = new URL(input, globalThis.location?.href).href
    origins = [url, ...(options.resumeOrigins ?? [])].map((origin) => new URL(origin).origin)
    resumeUrl = options.resumeUrl === undefined ? undefined : new URL(options.resumeUrl, url)
  } catch (cause) {
    throw new UnbrokenClientError('invalid-argument', `Invalid URL: ${input}`, { cause })
  }
  // Parsed ids never hold these; a given one would make every request throw.
  if (/[\0\r\n]/.test(initialId))
    throw new UnbrokenClientError('invalid-argument', 'lastEventId has NUL, CR or LF')

  // Aborted by end(): it stops the current connection and the backoff wait.
  const life = new AbortController()
  const store = createStore(url, initialId)
  const guard = createResumeGuard(initialId)
  let resuming = false
  // The backoff base: `initialMs` until the server's `retry:` replaces it.
  let baseDelayMs = options.backoff?.initialMs ?? 1000
  let failures = 0
  let streakStart = 0
  let refreshed = false
  /** The `expiresAt` of the last `auth-expired` (epoch ms): a later one is a new expiry. */
  let expiry = 0
  let opened = false
  /** The last request carried an `Idempotency-Key` (the option's, or one the headers set). */
  let keyed = false
  let events = 0
  let replayed = 0
  let bytes = 0
  let closed = false

  // A throwing callback stops the stream (the error says which) instead of being retried.
  const call = <K extends Callback>(
    name: K,
    arg: Parameters<NonNullable<EventStreamOptions[K]>>[0],
  ) => {
    try {
      ;(options[name] as ((value: typeof arg) => void) | undefined)?.(arg)
    } catch (cause) {
      throw new UnbrokenClientError('invalid-argument', `${name} threw`, { cause })
    }
  }

  const end = (closeReason: EventStreamCloseReason, error?: UnbrokenClientError) => {
    if (closed) return
    closed = true
    signal?.removeEventListener('abort', onAbort)
    life.abort(error)
    store.set({ status: 'closed', closeReason, ...(error && { error }) })
    queue.end(error, closeReason === 'aborted')
    // The stream is over: a throwing onError/onClose has nothing left to stop, and rethrowing
    // from an abort listener would crash Node.
    try {
      if (closeReason === 'error') options.onError?.(error as UnbrokenClientError)
    } catch {}
    try {
      options.onClose?.({ reason: closeReason, error })
    } catch {}
  }
  const close = () => end('aborted')
  const onAbort = () =>
    end(
      'aborted',
      new UnbrokenClientError('aborted', 'Aborted', {
        cause: signal?.reason,
      }),
    )
  const queue = createQueue<ServerSentEvent>(close)

  // Where the response says to resume: its Content-Location, but never on an origin the caller
  // did not name (the next request would carry their credentials there), else `resumeUrl`.
  const resumeTarget = (response: Response): URL | undefined => {
    const location = response.headers.get('content-location')
    try {
      const next = location ? new URL(location, response.url || url) : undefined
      if (next && origins.includes(next.origin)) return next
    } catch {}
    return resumeUrl
  }

  // One connection. Resolves `undefined` after the terminal event, else the error that ended it.
  const attempt = async (): Promise<UnbrokenClientError | undefined> => {
    guard.open()
    const cursor = guard.lastEventId
    const request = await buildRequest(options, {
      url,
      resuming,
      failures,
      lastEventId: cursor,
      idempotencyKey,
    })
    keyed = request[1].headers.has('idempotency-key')
    let replayThrough: string | null = null
    let healthy = false
    let firstByteMs: number | undefined
    const sent = Date.now()
    const body = createConnectionEvents(
      guard,
      options,
      (ms) => {
        baseDelayMs = Math.min(ms, MAX_RETRY_MS)
      },
      (event) => {
        // An abort or close() delivers nothing more, not even the rest of the chunk.
        if (closed) return
        if (!healthy) {
          // A healthy open (an event arrived): the next failure starts a fresh backoff and a
          // fresh credential refresh.
          healthy = true
          failures = 0
          refreshed = false
          store.set({ attempt: 0, error: undefined })
        }
        events++
        // A3: everything up to the id the server named was already in its log at attach time.
        // The header holds the id as Last-Event-ID does: its UTF-8 bytes, one per character.
        if (replayThrough !== null) {
          replayed++
          if (toByteString(event.lastEventId) === replayThrough) replayThrough = null
        }
        queue.push(event)
        call('onEvent', event)
      },
    )
    const failure = await connect(request, options, life.signal, {
      open: (response) => {
        if (response.status !== 200 || !isEventStream(response.headers.get('content-type')))
          // A request carrying a cursor is a resume, even the first one (a saved id).
          return responseError(response, request[0], resuming || cursor !== '')
        const next = resumeTarget(response)
        if (next) {
          url = next.href
          resuming = true
        }
        opened = true
        replayThrough = response.headers.get('unbroken-replay-through')
        store.set({ status: 'open', url })
        call('onOpen', response)
        return undefined
      },
      chunk: (value) => {
        bytes += value.length
        const ended = body.write(value)
        firstByteMs ??= Date.now() - sent
        store.set({
          bytes,
          events,
          replayed,
          lastEventId: guard.lastEventId,
          timeToFirstByteMs: firstByteMs,
        })
        return ended
      },
      ready: queue.drained,
    })
    const { outcome } = body
    return outcome
      ? outcome.error
      : (failure ??
          new UnbrokenClientError('network', 'Closed before a terminal event', {
            retryable: true,
          }))
  }

  const run = async () => {
    for (let count = 0; !closed; count++) {
      if (count) store.set({ reconnects: count })
      const failure = await attempt()
      if (closed) return
      if (!failure) return end('done')
      const now = Date.now()
      const elapsedMs = failures ? now - streakStart : 0
      // An `auth-expired` naming a later expiry than the last one: the server took the refreshed
      // credential and it has run out in turn (a long prefill sends no event to show it worked).
      // It gets its own refresh; the same expiry again means the refresh did not help.
      const expiresAt = Number(readErrorJson(failure.body).expiresAt)
      if (failure.serverCode === 'auth-expired' && expiresAt > expiry) {
        expiry = expiresAt
        refreshed = false
      }
      const decision = decideRetry(
        {
          failure,
          attempt: failures + 1,
          elapsedMs,
          resendsBody: !resuming && !firstRequestIsGet,
          opened,
          keyed,
          refreshed,
          baseDelayMs,
          jitter: random(),
        },
        options,
      )
      // One refresh per expiry: a failure that is not about credentials shows the refresh worked.
      refreshed = decision.action === 'refresh'
      if (++failures === 1) streakStart = now
      if (decision.action === 'refresh') {
        // A refresh resumes at once, with no backoff; it counts as an attempt until an event.
        try {
          await options.onAuthRequired?.({ reason: decision.reason })
        } catch (cause) {
          return end(
            'error',
            new UnbrokenClientError('auth', 'onAuthRequired failed', {
              cause,
              status: failure.status,
            }),
          )
        }
        continue
      }
      const { error } = decision
      const retry =
        options.shouldRetry?.({
          error,
          status: failure.status,
          attempt: failures,
          elapsedMs,
          retry: decision.action === 'retry',
          delayMs: decision.delayMs,
        }) ?? decision.action === 'retry'
      if (retry === false) return end('error', error)
      // setTimeout takes a negative delay as 0, but one above 2^31−1 as 1 ms.
      const delayMs = Math.min(retry === true ? decision.delayMs : retry, MAX_TIMER_MS)
      store.set({ status: 'reconnecting', attempt: failures, error: failure })
      call('onReconnect', { attempt: failures, delayMs, error: failure })
      await wait(delayMs, life.signal, queue.active)
    }
  }

  signal?.addEventListener('abort', onAbort)
  // Deferred so that no callback runs before createEventStream returns; a pre-aborted signal
  // then ends the stream without a single request.
  queueMicrotask(() => {
    if (signal?.aborted) return onAbort()
    run().catch((error) => end('error', error))
  })

  return {
    subscribe: store.subscribe,
    getSnapshot: store.get,
    close,
    get url() {
      return url
    },
    [Symbol.asyncIterator]: queue.iterator,
  }
}
