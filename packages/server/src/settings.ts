import { UnbrokenServerError } from './errors'
import { formatEvent } from './format'
import type { EventWriterOptions } from './types'

/** `EventWriterOptions` with every default applied and validated. */
export interface WriterSettings {
  readonly retryMs: number
  readonly keepAliveMs: number
  readonly drainTimeoutMs: number
  readonly highWaterMarkBytes: number
  /** `undefined` also for `Infinity`: never expires. */
  readonly expiresAt: number | (() => number | undefined) | undefined
  readonly authLeadMs: number
  readonly maxDurationMs: number | undefined
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly cursor: string | undefined
  /** The first write: the `retry:` hint and a comment, then the cursor block if there is one. */
  readonly opening: string
  readonly exposeErrors: boolean
  readonly onError: ((error: unknown) => void) | undefined
}

/** Defaults, documented in `EventWriterOptions` and the README. */
const DEFAULTS = {
  retryMs: 1000,
  keepAliveMs: 15_000,
  // Linux reports a socket writable only once a third of its auto-tuned send buffer (up to 4 MiB)
  // is free, so a steady 100 KB/s reader can go ~13 s between drains; 30 s keeps such readers and
  // still cuts a dead one, while userland buffering stays bounded by the high-water mark.
  drainTimeoutMs: 30_000,
  highWaterMarkBytes: 1024 * 1024,
  authLeadMs: 5000,
} as const

/** Merges writer options over hub options over defaults; throws `invalid-argument` on misuse. */
export function resolveSettings(
  hub: EventWriterOptions,
  own: EventWriterOptions | undefined,
): WriterSettings {
  const pick = <K extends keyof EventWriterOptions>(key: K) =>
    own?.[key] !== undefined ? own[key] : hub[key]
  const retryMs = count('retryMs', pick('retryMs') ?? DEFAULTS.retryMs)
  if (!Number.isSafeInteger(retryMs)) {
    throw new UnbrokenServerError(
      'invalid-argument',
      `retryMs must be an integer (it is the retry: field), got ${retryMs}`,
    )
  }
  const cursor = own?.cursor
  const settings: WriterSettings = {
    retryMs,
    keepAliveMs: delay('keepAliveMs', pick('keepAliveMs') ?? DEFAULTS.keepAliveMs),
    drainTimeoutMs: delay('drainTimeoutMs', pick('drainTimeoutMs') ?? DEFAULTS.drainTimeoutMs),
    highWaterMarkBytes: count(
      'highWaterMarkBytes',
      pick('highWaterMarkBytes') ?? DEFAULTS.highWaterMarkBytes,
    ),
    expiresAt: expiry(pick('expiresAt')),
    authLeadMs: count('authLeadMs', pick('authLeadMs') ?? DEFAULTS.authLeadMs),
    maxDurationMs: optionalDelay('maxDurationMs', pick('maxDurationMs')),
    status: pick('status') ?? 200,
    headers: { ...hub.headers, ...own?.headers },
    cursor,
    // Formatted here, so that a cursor with a line break throws before any header is written.
    opening:
      formatEvent({ comment: 'ok', retry: retryMs }) +
      (cursor === undefined ? '' : formatEvent({ id: cursor })),
    exposeErrors: pick('exposeErrors') ?? false,
    onError: pick('onError'),
  }
  const { status } = settings
  if (!Number.isInteger(status) || status < 200 || status > 299) {
    throw new UnbrokenServerError(
      'invalid-argument',
      `status must be a 2xx integer for an event stream, got ${status}`,
    )
  }
  return settings
}

/** Throws `invalid-argument` unless `value` is a non-negative finite number. */
export function count(name: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new UnbrokenServerError(
      'invalid-argument',
      `${name} must be a non-negative number, got ${value}`,
    )
  }
  return value
}

// Checked after the merge, so that a connection's `Infinity` overrides a hub-wide expiry.
function expiry(value: EventWriterOptions['expiresAt']): WriterSettings['expiresAt'] {
  if (value === undefined || typeof value === 'function') return value
  if (value === Number.POSITIVE_INFINITY) return undefined
  if (typeof value !== 'number' || !(value >= 0)) {
    throw new UnbrokenServerError(
      'invalid-argument',
      `expiresAt must be epoch ms, Infinity (never) or a function, got ${value}`,
    )
  }
  return value
}

/** Throws `invalid-argument` unless `value` is a positive number; a limit, so `Infinity` is none. */
export function positive(name: string, value: number): number {
  if (typeof value !== 'number' || !(value > 0)) {
    throw new UnbrokenServerError(
      'invalid-argument',
      `${name} must be a positive number, got ${value}`,
    )
  }
  return value
}

/** setTimeout fires at once past 2^31 - 1 ms (about 24.8 days), so no timer may ask for longer. */
export const MAX_DELAY_MS = 2 ** 31 - 1

/** `count` that a timer waits for: at most `MAX_DELAY_MS`, which a timer could not honour. */
export function delay(name: string, value: number): number {
  if (count(name, value) > MAX_DELAY_MS) {
    throw new UnbrokenServerError(
      'invalid-argument',
      `${name} must be at most ${MAX_DELAY_MS} ms (a timer fires at once past it), got ${value}`,
    )
  }
  return value
}

function optionalDelay(name: string, value: number | undefined): number | undefined {
  return value === undefined ? undefined : delay(name, value)
}
