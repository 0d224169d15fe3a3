import type { BackoffOptions } from './types'

/**
 * Ceiling for the server's `retry:`: `setTimeout` turns anything above 2^31−1 ms into 1 ms, and
 * `retry: 3000000000` gave peers ~800 reconnects per second.
 */
export const MAX_RETRY_MS = 60_000

/** The largest delay `setTimeout` honours; longer ones fire after 1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1

/**
 * Full jitter (AWS "Exponential Backoff and Jitter"): spreads a crowd of reconnecting clients.
 * `jitter` is a random number in [0, 1).
 */
export const backoffDelay = (
  failures: number,
  base: number,
  { maxMs = 30_000, multiplier = 2 }: BackoffOptions,
  jitter: number,
): number => jitter * Math.min(Math.max(maxMs, base), base * multiplier ** (failures - 1))

/** `Retry-After` as delay-seconds or an HTTP-date (RFC 9110 §10.2.3); 0 when absent or unreadable. */
export const parseRetryAfter = (value: string | null, now: number): number => {
  const text = value?.trim() ?? ''
  // Date.parse also takes "-5" or "12.5" as dates; an HTTP-date always names a day and a month.
  const ms = /^\d+$/.test(text) ? +text * 1000 : /[a-z]/i.test(text) ? Date.parse(text) - now : 0
  // A date in the past means "now"; an unreadable date (NaN) means no hint.
  // biome-ignore lint/complexity/useMathMinMax: Math.max would keep NaN; NaN must become 0.
  return ms > 0 ? ms : 0
}

/** Lets Node exit while only this timer is pending; browsers' numeric timers have no `unref`. */
export const unref = (timer: unknown) => (timer as { unref?: () => void }).unref?.()

/**
 * Resolves after `ms`, or as soon as `signal` aborts, and never leaves a timer behind. The timer is
 * unref'd in Node unless `hold`: a library timer must not keep a process alive on its own, but a
 * `for await` loop waiting on the stream must not see Node exit in the middle of a reconnect.
 */
export const wait = (ms: number, signal: AbortSignal, hold?: boolean): Promise<void> =>
  new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    if (!hold) unref(timer)
    // An abort event never fires again: a signal aborted before the wait (close() in
    // onReconnect) must end it now.
    if (signal.aborted) done()
    else signal.addEventListener('abort', done)
  })
