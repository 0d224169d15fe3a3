// The terminal blocks a writer can end with (docs/protocol.md §6), in one place.
import { formatEvent } from './format'
import type { ErrorPayload } from './types'

/** `event: done`, ending the stream. */
export function doneFrame(data: string): string {
  return formatEvent({ event: 'done', data })
}

/** `event: error` with the payload as JSON. */
export function errorFrame(payload: ErrorPayload): string {
  const retry = payload.retryAfterMs
  return formatEvent({
    // A `retry:` in the same block makes even a plain EventSource wait the advised time.
    retry: retry !== undefined && Number.isSafeInteger(retry) && retry >= 0 ? retry : undefined,
    event: 'error',
    data: JSON.stringify(payload),
  })
}

/** The retryable error of a graceful shutdown, with this client's jittered delay. */
export function shutdownFrame(retryMs: number, message: string): string {
  return errorFrame({ code: 'shutting-down', message, retryable: true, retryAfterMs: retryMs })
}

/** The retryable error at the end of a connection's maximum lifetime. */
export function timeoutFrame(): string {
  const message = 'The connection reached its maximum lifetime; resume with Last-Event-ID.'
  return errorFrame({ code: 'timeout', message, retryable: true })
}

/** `event: auth-expired`: the connection ends, not the stream; the client refreshes and resumes. */
export function authExpiredFrame(
  expiresAt: number | undefined,
  lastEventId: string | undefined,
): string {
  // JSON.stringify leaves out undefined members: an unknown expiry is omitted, not sent as null.
  return formatEvent({ event: 'auth-expired', data: JSON.stringify({ expiresAt, lastEventId }) })
}
