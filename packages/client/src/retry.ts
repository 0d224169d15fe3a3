import { backoffDelay, MAX_RETRY_MS } from './backoff'
import { KEYED_RESENDABLE_STATUS, RESENDABLE_STATUS } from './classify'
import { UnbrokenClientError } from './errors'
import type { EventStreamOptions } from './types'

/** Where the stream stands when an attempt failed: everything the retry decision looks at. */
export interface RetryFacts {
  readonly failure: UnbrokenClientError
  /** Failed attempts in a row, this one included. */
  readonly attempt: number
  /** Milliseconds since the first failure of this streak (0 on the first). */
  readonly elapsedMs: number
  /** The next request would send the first request's body again: not a GET, nowhere to resume. */
  readonly resendsBody: boolean
  /** A response opened the stream before, so a second body could start a second generation. */
  readonly opened: boolean
  /** The failed request carried an `Idempotency-Key`. */
  readonly keyed: boolean
  /**
   * The failed attempt was the one made right after `onAuthRequired` ran, and it named no later
   * expiry than the one that refresh answered.
   */
  readonly refreshed: boolean
  /** The backoff base: the server's `retry:`, else `backoff.initialMs`. */
  readonly baseDelayMs: number
  /** A random number in [0, 1) for the backoff's jitter. */
  readonly jitter: number
}

/** Refresh credentials and resume at once, or retry after `delayMs`, or fail with `error`. */
type RetryDecision =
  | { readonly action: 'refresh'; readonly reason: 'unauthorized' | 'auth-expired' }
  | {
      readonly action: 'retry' | 'fail'
      readonly error: UnbrokenClientError
      readonly delayMs: number
    }

/**
 * The built-in retry policy: a pure function of the facts and the options (`shouldRetry` may
 * then override it).
 * The delay is the server's `Retry-After`/`retryAfterMs`, capped at `maxRetryAfterMs`, plus
 * full-jitter backoff on top, so a crowd told the same `Retry-After` does not return at the same
 * instant. A 429 backs off from four times the base: the server is full, not broken.
 */
export const decideRetry = (facts: RetryFacts, options: EventStreamOptions): RetryDecision => {
  const { failure, attempt, elapsedMs } = facts
  const { status } = failure
  const expired = failure.serverCode === 'auth-expired'
  const refresh = !!options.onAuthRequired && (expired || status === 401)
  const delayMs =
    Math.min(failure.retryAfterMs, options.maxRetryAfterMs ?? MAX_RETRY_MS) +
    backoffDelay(
      attempt + (status === 429 ? 2 : 0),
      facts.baseDelayMs,
      options.backoff ?? {},
      facts.jitter,
    )
  let error = failure
  let retry = failure.retryable || refresh
  // Never send a body twice when the first may have started work (a second LLM generation): only
  // statuses that say "not processed" may be re-sent. With an Idempotency-Key, so may a request
  // that got no answer at all (no status) or a gateway's 502/504: a server that honours the key
  // attaches the repeat to the work the first one started, as Stripe's does.
  const resendable = facts.keyed
    ? status === undefined || KEYED_RESENDABLE_STATUS.includes(status)
    : RESENDABLE_STATUS.includes(status ?? 0)
  if (retry && facts.resendsBody && (facts.opened || !resendable)) {
    retry = false
    error = facts.opened
      ? new UnbrokenClientError(
          'resume-failed',
          'No same-origin Content-Location to resume at (see resumeUrl, resumeOrigins)',
          { cause: failure, status },
        )
      : new UnbrokenClientError(
          failure.code,
          `${failure.message}; not sent again, so nothing ran twice`,
          { cause: failure, status },
        )
  } else if (refresh) {
    // One refresh per expiry: a 401, or the same expiry, on the attempt right after it means it
    // did not help. Refreshes count as attempts until an event arrives, so a credential that is
    // due as soon as it is used (shorter than the server's lead) cannot refresh for ever.
    if (!facts.refreshed) {
      if (attempt <= (options.maxAttempts ?? 10))
        return { action: 'refresh', reason: expired ? 'auth-expired' : 'unauthorized' }
    } else {
      retry = false
      error = new UnbrokenClientError('auth', 'Still unauthorized after onAuthRequired', {
        cause: failure,
        status,
      })
    }
  }
  if (
    retry &&
    (attempt >= (options.maxAttempts ?? 10) ||
      elapsedMs + delayMs > (options.maxElapsedMs ?? Infinity))
  ) {
    retry = false
    error = new UnbrokenClientError(
      'retries-exhausted',
      `Gave up after ${attempt} attempts: ${failure.message}`,
      { cause: failure, status },
    )
  }
  return { action: retry ? 'retry' : 'fail', error, delayMs }
}
