import { backoffDelay, MAX_RETRY_MS, MAX_TIMER_MS, unref, wait } from './backoff'
import { eventError, isEventStream, RESENDABLE_STATUS, responseError } from './classify'
import { UnbrokenClientError } from './errors'
import { createEventStreamParser, type ServerSentEvent } from './parser'
import { createQueue } from './queue'
import { buildRequest } from './request'
import { createStore } from './store'
import type { EventStream, EventStreamCloseReason, EventStreamOptions } from './types'

type Callback = 'onOpen' | 'onEvent' | 'onReconnect'

const isDoneEvent = (event: ServerSentEvent) => event.type === 'done'

/**
 * Opens a Server-Sent Events stream over `fetch` that resumes from the last dispatched event after
 * any drop, backs off with jitter, refreshes credentials once per expiry and never re-POSTs.
 */
export function createEventStream(
  input: string | URL,
  options: EventStreamOptions = {},
): EventStream {
  const { signal, isDone = isDoneEvent, backoff = {}, random = Math.random } = options
  const fetcher = options.fetch ?? globalThis.fetch
  const idleMs = options.idleTimeoutMs ?? 45_000
  const maxAttempts = options.maxAttempts ?? 10
  const maxElapsedMs = options.maxElapsedMs ?? Infinity
  const firstRequestIsGet = /^get$/i.test(options.method ?? 'GET')
  let lastId = options.lastEventId ?? ''
  let url: string
  let resuming = false
  try {
    // Relative URLs resolve against the page, as EventSource's do.
    url = new URL(input, globalThis.location?.href).href
  } catch (cause) {
    throw new UnbrokenClientError('invalid-argument', `Invalid URL: ${input}`, { cause })
  }
  // Parsed ids never hold these; a given one would make every request throw.
  if (/[\0\r\n]/.test(lastId))
    throw new UnbrokenClientError('invalid-argument', 'lastEventId has NUL, CR or LF')

  // Aborted by end(): it stops the backoff wait; `connection` is the current attempt's.
  const life = new AbortController()
  let connection: AbortController | undefined
  const store = createStore(url, lastId)
  // The backoff base: `initialMs` until the server's `retry:` replaces it.
  let baseDelayMs = backoff.initialMs ?? 1000
  let failures = 0
  let streakStart = 0
  let refreshed = false
  let opened = false
  let events = 0
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
    connection?.abort()
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

  // One connection. Resolves `undefined` after the terminal event, else the error that ended it.
  const connect = async (): Promise<UnbrokenClientError | undefined> => {
    // end() aborts the current connection through `connection`.
    const ac = new AbortController()
    connection = ac
    let timer: ReturnType<typeof setTimeout> | undefined
    // The watchdog: any byte re-arms it, so keepalive comments prove the connection alive.
    const arm = () => {
      clearTimeout(timer)
      if (idleMs > 0) {
        timer = setTimeout(
          () =>
            ac.abort(
              new UnbrokenClientError('idle-timeout', `No data for ${idleMs} ms`, {
                retryable: true,
              }),
            ),
          idleMs,
        )
        unref(timer)
      }
    }
    try {
      arm()
      const [target, init] = await buildRequest(options, url, resuming, failures, lastId)
      const sent = Date.now()
      const res = await fetcher(target, { ...init, signal: ac.signal })
      if (res.status !== 200 || !isEventStream(res.headers.get('content-type')))
        // A request carrying a cursor is a resume, even the first one (a saved id after a reload).
        return await responseError(res, resuming || lastId > '')
      const location = res.headers.get('content-location') || options.resumeUrl
      if (location) {
        url = new URL(location, res.url || url).href
        resuming = true
      }
      opened = true
      // A control or terminal event ends this connection; later blocks of its chunk are ignored.
      let last: ServerSentEvent | undefined
      let healthy = false
      const parser = createEventStreamParser({
        lastEventId: lastId,
        maxEventBytes: options.maxEventBytes,
        onRetry: (ms) => {
          baseDelayMs = Math.min(ms, MAX_RETRY_MS)
        },
        onEvent: (event) => {
          if (last || closed) return
          lastId = event.lastEventId
          const control = event.type === 'error' || event.type === 'auth-expired'
          if (control || isDone(event)) last = event
          if (control) return
          if (!healthy) {
            // A healthy open (an event arrived): the next failure starts a fresh backoff and
            // a fresh credential refresh.
            healthy = true
            failures = 0
            refreshed = false
            store.set({ attempt: 0, error: undefined })
          }
          events++
          queue.push(event)
          call('onEvent', event)
        },
      })
      store.set({ status: 'open', url })
      call('onOpen', res)
      const reader = res.body?.getReader()
      let firstByteMs: number | undefined
      while (reader) {
        const { done, value } = await reader.read()
        if (done) break
        arm()
        bytes += value.length
        parser.write(value)
        // The resume id is the last completed block's (id-only blocks count), never a partial one.
        if (!last) lastId = parser.lastEventId
        firstByteMs ??= Date.now() - sent
        store.set({
          bytes,
          events,
          lastEventId: lastId,
          timeToFirstByteMs: firstByteMs,
        })
        if (last?.type === 'auth-expired')
          return new UnbrokenClientError('auth', 'auth-expired', {
            serverCode: 'auth-expired',
          })
        if (last?.type === 'error') return eventError(last.data)
        if (last) return undefined
      }
      return new UnbrokenClientError('network', 'No terminal event', {
        retryable: true,
      })
    } catch (error) {
      if (ac.signal.reason instanceof UnbrokenClientError) return ac.signal.reason
      return error instanceof UnbrokenClientError
        ? error
        : new UnbrokenClientError('network', `${error}`, {
            cause: error,
            retryable: true,
          })
    } finally {
      clearTimeout(timer)
      // Releases the socket on every exit path (after `done`, on errors) and stops the body reader.
      ac.abort()
    }
  }

  const run = async () => {
    for (let count = 0; !closed; count++) {
      if (count) store.set({ reconnects: count })
      const failure = await connect()
      if (closed) return
      if (!failure) return end('done')
      const { status } = failure
      let error = failure
      let retry = failure.retryable
      let refreshedNow = false
      // 401 or auth-expired: refresh once, then resume at once (not a failed attempt, no backoff).
      // A 403, no hook, or another expiry before any event arrived fails.
      const expired = failure.serverCode === 'auth-expired'
      if (options.onAuthRequired && (expired || status === 401)) {
        try {
          // A second 401 or expiry before any event means the refresh did not help.
          if (refreshed) throw failure
          refreshed = true
          await options.onAuthRequired({ reason: expired ? 'auth-expired' : 'unauthorized' })
          retry = refreshedNow = true
        } catch (cause) {
          error = new UnbrokenClientError('auth', 'Still unauthorized after onAuthRequired', {
            cause,
            status,
          })
        }
        if (closed) return
      }
      // Never re-send a body that may have started work (a second LLM generation): resume by
      // GET, or re-send only when the server said it did not process the request.
      if (
        retry &&
        !resuming &&
        !firstRequestIsGet &&
        (opened || !RESENDABLE_STATUS.includes(status as number))
      ) {
        retry = false
        error = new UnbrokenClientError('resume-failed', 'No Content-Location (see resumeUrl)', {
          cause: failure,
          status,
        })
      }
      // A refresh resumes at once: it is not a failed attempt and needs no backoff.
      if (retry && refreshedNow) continue
      if (++failures === 1) streakStart = Date.now()
      const elapsedMs = Date.now() - streakStart
      let delayMs = Math.max(
        failure.retryAfterMs,
        backoffDelay(failures, baseDelayMs, backoff, random),
      )
      if (retry && (failures >= maxAttempts || elapsedMs + delayMs > maxElapsedMs)) {
        retry = false
        error = new UnbrokenClientError(
          'retries-exhausted',
          `Gave up after ${failures} attempts: ${failure.message}`,
          { cause: failure, status },
        )
      }
      const decision =
        options.shouldRetry?.({ error, status, attempt: failures, elapsedMs, retry, delayMs }) ??
        retry
      if (decision === false) return end('error', error)
      if (typeof decision === 'number') delayMs = decision
      // setTimeout takes a negative delay as 0, but one above 2^31−1 as 1 ms.
      delayMs = Math.min(delayMs, MAX_TIMER_MS)
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
