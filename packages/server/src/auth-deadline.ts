// When a connection's credential runs out: `expiresAt` read, validated and turned into a wait.
import { UnbrokenServerError } from './errors'
import { MAX_DELAY_MS, type WriterSettings } from './settings'

/** When to send `auth-expired`, as of the moment `expiresAt` was read. */
export interface AuthDeadline {
  /** The expiry to put in the `auth-expired` event; undefined when it could not be read. */
  readonly at: number | undefined
  /**
   * Milliseconds until `expiresAt` is next read (the lead time already taken off), at most
   * setTimeout's range; ≤ 0 means `auth-expired` is due now.
   */
  readonly delay: number
}

/**
 * Re-reads `expiresAt`; undefined when the credential never expires. A hook that throws or returns
 * something other than epoch ms is reported to `onError`, and its credential is due at once.
 */
export function readAuthDeadline(settings: WriterSettings): AuthDeadline | undefined {
  const expiresAt = settings.expiresAt
  if (expiresAt === undefined) return undefined
  let at: number | undefined
  let failure: unknown
  try {
    at = typeof expiresAt === 'function' ? expiresAt() : expiresAt
  } catch (error) {
    failure = error
  }
  // Infinity or undefined: this credential never expires, so there is nothing to re-read.
  if (failure === undefined && (at === undefined || at === Number.POSITIVE_INFINITY)) return
  if (failure === undefined && (typeof at !== 'number' || !(at >= 0))) {
    failure = new UnbrokenServerError(
      'invalid-argument',
      `expiresAt() must return epoch ms, Infinity or undefined, got ${String(at)}; treated as expired.`,
    )
  }
  if (failure !== undefined) {
    // Unknown credential state is treated as expired: closing early is safe, streaming on is not.
    at = undefined
    try {
      settings.onError?.(failure)
    } catch {
      // A logging hook's own failure must not keep the connection open.
    }
  }
  const delay = at === undefined ? 0 : at - settings.authLeadMs - Date.now()
  return { at, delay: Math.min(delay, MAX_DELAY_MS) }
}
