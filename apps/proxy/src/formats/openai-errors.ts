// Errors answered before a chat-completion stream begins, in OpenAI's shape: the status the SDKs'
// retry rules read (the upstream's own for 401, 429 and 5xx), `Retry-After` when known,
// `x-should-retry` (the SDKs obey it before their defaults, which retry every 5xx: a bug of the
// proxy, a 500, would otherwise be sent three times), and the body
// `{"error":{"message","type","param","code"}}` with the proxy's code.
import { UnbrokenServerError } from '@unbroken/server'
import { ProxyError, STATUS } from '../errors'

/** OpenAI's error body. */
export interface OpenAIErrorBody {
  readonly error: {
    readonly message: string
    readonly type: string
    readonly param: null
    readonly code: string
  }
}

const SERVER_STATUS: Partial<Record<UnbrokenServerError['code'], number>> = {
  unauthenticated: 401,
  forbidden: 403,
  'shutting-down': 503,
  'stream-limit': 429,
}

/** The body for an error with `code` and `message`, typed by `status` as OpenAI types errors. */
export function openAIErrorBody(code: string, message: string, status: number): OpenAIErrorBody {
  return { error: { message, type: errorType(status), param: null, code } }
}

/** The HTTP answer for `error` in OpenAI's error shape. */
export function openAIErrorResponse(error: unknown): Response {
  let status = 500
  let code = 'internal-error'
  let message = 'The proxy could not answer this request.'
  let retryAfterMs: number | undefined
  let retryable = false
  if (error instanceof ProxyError) {
    ;({ code, message, retryAfterMs, retryable } = error)
    status = error.upstreamStatus ?? STATUS[error.code]
  } else if (UnbrokenServerError.isInstance(error)) {
    ;({ code, message, retryable } = error)
    status = SERVER_STATUS[error.code] ?? 500
    retryAfterMs = error.retryable ? (error.retryAfterMs ?? 1000) : undefined
  }
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    'x-should-retry': String(retryable),
  }
  if (retryAfterMs !== undefined) {
    headers['Retry-After'] = String(Math.max(1, Math.ceil(retryAfterMs / 1000)))
  }
  return new Response(JSON.stringify(openAIErrorBody(code, message, status)), { status, headers })
}

// OpenAI's `type` names the kind of failure; the SDKs pick their error class by status instead.
function errorType(status: number): string {
  if (status === 401) return 'authentication_error'
  if (status === 403) return 'permission_error'
  if (status === 429) return 'rate_limit_error'
  if (status >= 500) return 'server_error'
  return 'invalid_request_error'
}
