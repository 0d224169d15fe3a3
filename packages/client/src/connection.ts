import { unref } from './backoff'
import { UnbrokenClientError } from './errors'
import type { EventStreamOptions } from './types'

/** How one connection hands its response and body to the stream that opened it. */
interface ConnectionHandlers {
  /** The headers arrived; returns the error that ends the attempt when they open no stream. */
  open(response: Response): Promise<UnbrokenClientError | undefined> | undefined
  /** One body chunk; returns `true` when it ended the connection (a terminal event). */
  chunk(bytes: Uint8Array): boolean
  /** Resolves when the reader may take the next chunk; `undefined` when it may now. */
  ready(): Promise<void> | undefined
}

/**
 * Runs one request with the options' `fetch`: sends it, waits for the headers, then pumps the
 * body into `handlers` until it ends, `chunk` stops it, `stop` aborts, or a watchdog fires: the
 * headers timeout until the response (a loaded server may queue a request), then the idle timeout
 * between body bytes. Resolves with the failure, or `undefined` when the body ended or was
 * stopped; it never rejects, and it releases the socket on every path.
 */
export const connect = async (
  [target, init]: [string, RequestInit],
  options: EventStreamOptions,
  stop: AbortSignal,
  { open, chunk, ready }: ConnectionHandlers,
): Promise<UnbrokenClientError | undefined> => {
  const headersMs = options.headersTimeoutMs ?? 60_000
  const idleMs = options.idleTimeoutMs ?? 45_000
  const controller = new AbortController()
  const abort = () => controller.abort()
  let timer: ReturnType<typeof setTimeout> | undefined
  const watch = (ms: number, code: 'headers-timeout' | 'idle-timeout', what: string) => {
    clearTimeout(timer)
    if (ms > 0) {
      timer = setTimeout(
        () =>
          controller.abort(
            new UnbrokenClientError(code, `${what} for ${ms} ms`, { retryable: true }),
          ),
        ms,
      )
      unref(timer)
    }
  }
  stop.addEventListener('abort', abort)
  // A stop during the caller's await (a pending headers function) must not send the request.
  if (stop.aborted) abort()
  try {
    watch(headersMs, 'headers-timeout', 'No response headers')
    const fetcher = options.fetch ?? globalThis.fetch
    const response = await fetcher(target, { ...init, signal: controller.signal })
    // Any byte re-arms the idle watchdog, so keepalive comments prove the connection alive.
    watch(idleMs, 'idle-timeout', 'No data')
    const refused = await open(response)
    if (refused) return refused
    const reader = response.body?.getReader()
    while (reader) {
      const { done, value } = await reader.read()
      if (done || chunk(value)) break
      const waiting = ready()
      if (waiting) {
        // A slow consumer is not a dead connection: the watchdog sleeps while the reader waits,
        // and the unread socket pushes back on the server through TCP.
        clearTimeout(timer)
        await waiting
      }
      watch(idleMs, 'idle-timeout', 'No data')
    }
    return undefined
  } catch (error) {
    const reason = controller.signal.reason
    if (reason instanceof UnbrokenClientError) return reason
    return error instanceof UnbrokenClientError
      ? error
      : new UnbrokenClientError('network', describeNetworkError(error), {
          cause: error,
          retryable: true,
        })
  } finally {
    clearTimeout(timer)
    stop.removeEventListener('abort', abort)
    controller.abort()
  }
}

// fetch reports every socket failure as 'fetch failed'; the reason (refused, reset, closed before
// a response) is in its cause, and a failure report without it cannot be diagnosed.
const describeNetworkError = (error: unknown) =>
  error instanceof Error && error.cause instanceof Error
    ? `${error} (${error.cause.message})`
    : `${error}`
