/**
 * The one error contract of the server and of every `EventLog` (`@unbroken/redis` throws this class
 * too): the codes, whether each may be retried, the HTTP status it answers with, and the JSON
 * payload it becomes on the wire. Nothing else in the package maps errors.
 */
import type { EventLogErrorCode } from './log'
import type { ErrorPayload } from './types'

/** Why a server operation failed. Event-log codes are shared with every `EventLog` implementation. */
export type ServerErrorCode =
  | EventLogErrorCode
  | 'invalid-argument'
  | 'stream-limit'
  | 'forbidden'
  | 'unauthenticated'
  | 'shutting-down'
  | 'timeout'
  | 'internal-error'

// Per code: the status of an answer made before any event, and whether trying again can help (the
// log comes back, a slot frees, another instance takes over). A code added to the union does not
// compile until it has a row here.
const CODES: Readonly<Record<ServerErrorCode, readonly [status: number, retryable: boolean]>> = {
  'invalid-argument': [400, false],
  unauthenticated: [401, false],
  forbidden: [403, false],
  'unknown-stream': [404, false],
  'stream-exists': [409, false],
  'stream-complete': [409, false],
  'cursor-expired': [410, false],
  'stream-too-large': [413, false],
  'stream-limit': [429, true],
  'internal-error': [500, false],
  'producer-lost': [500, false],
  'log-unavailable': [503, true],
  'shutting-down': [503, true],
  timeout: [503, true],
}

// `Symbol.for` is shared by every copy of this package in a process, so `isInstance` recognises an
// error thrown by another copy (a bundled `@unbroken/redis`, a duplicated install), which
// `instanceof` would not.
const BRAND = Symbol.for('@unbroken/server/UnbrokenServerError')

/** Options of `UnbrokenServerError`. */
export interface ServerErrorOptions {
  readonly cause?: unknown
  /** Overrides the code's default, e.g. a `log-unavailable` that a later attempt cannot fix. */
  readonly retryable?: boolean | undefined
  /** How long a client should wait before trying again; sent as `retryAfterMs` and `Retry-After`. */
  readonly retryAfterMs?: number | undefined
}

/**
 * The one error class of `@unbroken/server`, also thrown by every event log. Branch on `code`;
 * `message` is written for the client that receives it. Thrown synchronously only for misuse;
 * network-time failures become outcomes, HTTP answers or `error` events instead.
 */
export class UnbrokenServerError extends Error {
  override readonly name = 'UnbrokenServerError'
  readonly [BRAND] = true
  readonly code: ServerErrorCode
  /** Whether a client may try again; by code unless the thrower knows better. */
  readonly retryable: boolean
  readonly retryAfterMs: number | undefined

  constructor(code: ServerErrorCode, message: string, options: ServerErrorOptions = {}) {
    super(message, { cause: options.cause })
    this.code = code
    this.retryable = options.retryable ?? CODES[code][1]
    this.retryAfterMs = options.retryAfterMs
  }

  /** `instanceof` that also recognises errors from another copy of this package. */
  static isInstance(value: unknown): value is UnbrokenServerError {
    return (
      typeof value === 'object' &&
      value !== null &&
      (value as { [BRAND]?: unknown })[BRAND] === true
    )
  }
}

/** The HTTP status of an error answer made before any event (protocol v1 §7). */
export function statusOf(code: string): number {
  return Object.hasOwn(CODES, code) ? CODES[code as ServerErrorCode][0] : 500
}

/** Options of `createErrorPayload`. */
export interface FormatErrorOptions {
  /** Put an unexpected error's own message on the wire. Default false (masked). */
  readonly expose?: boolean | undefined
}

/**
 * The `ErrorPayload` for `event: error` and for error answers. An `UnbrokenServerError` keeps its
 * code and message; an object already shaped like `ErrorPayload` (an application's own code) is
 * passed through; anything else is unexpected, and its message is masked unless `expose` is set,
 * because exception text can leak secrets, paths or prompts to the client.
 */
export function createErrorPayload(error: unknown, options?: FormatErrorOptions): ErrorPayload {
  if (UnbrokenServerError.isInstance(error)) {
    const { code, message, retryable, retryAfterMs } = error
    return payload(code, message, retryable, retryAfterMs)
  }
  if (isErrorPayload(error)) {
    const { code, message, retryable, retryAfterMs } = error
    return payload(code, message, retryable, retryAfterMs)
  }
  const message =
    options?.expose === true
      ? error instanceof Error
        ? error.message
        : String(error)
      : 'The stream failed unexpectedly.'
  return { code: 'internal-error', message, retryable: false }
}

/** `createErrorPayload` as the JSON data line of an `event: error`, e.g. to append to an event log. */
export function formatErrorData(error: unknown, options?: FormatErrorOptions): string {
  return JSON.stringify(createErrorPayload(error, options))
}

function payload(
  code: string,
  message: string,
  retryable: boolean,
  retryAfterMs: number | undefined,
): ErrorPayload {
  return retryAfterMs === undefined
    ? { code, message, retryable }
    : { code, message, retryable, retryAfterMs }
}

function isErrorPayload(value: unknown): value is ErrorPayload {
  if (typeof value !== 'object' || value === null) return false
  const v = value as Record<string, unknown>
  return (
    typeof v.code === 'string' &&
    typeof v.message === 'string' &&
    typeof v.retryable === 'boolean' &&
    (v.retryAfterMs === undefined || typeof v.retryAfterMs === 'number')
  )
}
