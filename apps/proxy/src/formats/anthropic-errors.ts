// Errors answered before a Messages stream begins, in the API's shape: the status the SDKs'
// retry rules expect (the upstream's own for 401, 429 and 5xx), the error type that goes with it,
// `Retry-After` when known, and `x-should-retry`, the header the SDKs obey before their defaults.
import { UnbrokenServerError } from '@unbroken/server'
import { ProxyError, STATUS } from '../errors'
import { formatErrorBody } from './anthropic'

// The error types of the API's documented statuses.
const TYPES: Readonly<Record<number, string>> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  504: 'timeout_error',
  529: 'overloaded_error',
}

const SERVER_STATUS: Partial<Record<UnbrokenServerError['code'], number>> = {
  unauthenticated: 401,
  forbidden: 403,
  'shutting-down': 503,
  'stream-limit': 429,
}

/** The status, retryability and message of anything a Messages route may throw. */
function classify(error: unknown): { status: number; retryable: boolean; message: string } {
  if (error instanceof ProxyError) {
    // An upstream that failed in its stream before any output: what the API itself answers when
    // it is overloaded, which the SDKs retry.
    const overloaded =
      error.retryable && (error.code === 'upstream-error' || error.code === 'upstream-truncated')
    const status = error.upstreamStatus ?? (overloaded ? 529 : STATUS[error.code])
    return { status, retryable: error.retryable, message: error.message }
  }
  if (UnbrokenServerError.isInstance(error)) {
    return {
      status: SERVER_STATUS[error.code] ?? 500,
      retryable: error.retryable,
      message: error.message,
    }
  }
  return { status: 500, retryable: false, message: 'The proxy could not answer this request.' }
}

/** The HTTP answer for `error` in the Messages API's error shape. */
export function anthropicErrorResponse(error: unknown): Response {
  const { status, retryable, message } = classify(error)
  const type = TYPES[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error')
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    'x-should-retry': String(retryable),
  }
  const retryAfterMs =
    error instanceof ProxyError
      ? error.retryAfterMs
      : UnbrokenServerError.isInstance(error) && error.retryable
        ? 1000
        : undefined
  if (retryAfterMs !== undefined) {
    headers['Retry-After'] = String(Math.max(1, Math.ceil(retryAfterMs / 1000)))
  }
  return new Response(formatErrorBody(type, message), { status, headers })
}
