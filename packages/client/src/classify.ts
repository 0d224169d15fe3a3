import { parseRetryAfter } from './backoff'
import { UnbrokenClientError } from './errors'

/** Statuses that mean "try again later"; every other non-200 answer is final. */
const RETRY_STATUS = [408, 425, 429, 500, 502, 503, 504]

/**
 * Statuses that say the request was not processed (RFC 9110/6585/8470), so even a `POST` may be
 * re-sent: it cannot start a second generation. 401 is re-sent after refreshing credentials.
 */
export const RESENDABLE_STATUS = [401, 408, 425, 429, 503]

/**
 * With an `Idempotency-Key`, also a gateway's 502/504 (its upstream died or timed out, perhaps
 * after starting the work): a server that honours the key attaches the re-sent request to that
 * work (agreement A4). Not 500, which says the server itself processed it and failed.
 */
export const KEYED_RESENDABLE_STATUS = [...RESENDABLE_STATUS, 502, 504]

/**
 * Compares the MIME essence, case-insensitively and ignoring parameters (HTML §9.2.3). Fetch
 * already trimmed the value, and a missing header tests as the string "null".
 */
export const isEventStream = (type: string | null): boolean =>
  /^text\/event-stream\s*(;|$)/i.test(type as string)

/**
 * Protocol v1 error or `auth-expired` JSON, or `{}` when the text is something else (an HTML
 * page, plain text).
 */
export const readErrorJson = (
  text = '',
): {
  code?: string
  message?: string
  retryable?: boolean
  retryAfterMs?: number
  expiresAt?: number
} => {
  try {
    return JSON.parse(text) ?? {}
  } catch {
    return {}
  }
}

/**
 * The first 512 characters of a body, to show what the server said (an HTML login page, error
 * JSON…). Reading stops there: a 256 MB gzip bomb or an endless body costs one chunk, and the
 * connection's abort then drops the rest. The idle watchdog bounds a body that stalls.
 */
const readSnippet = async (response: Response): Promise<string> => {
  let text = ''
  const decoder = new TextDecoder()
  try {
    const reader = response.body?.getReader()
    while (reader && text.length < 512) {
      const { done, value } = await reader.read()
      if (done) break
      text += decoder.decode(value, { stream: true })
    }
  } catch {}
  return text.slice(0, 512)
}

/** Turns a response that did not open a stream into the error that says why, body snippet included. */
export const responseError = async (
  response: Response,
  url: string,
  resuming: boolean,
): Promise<UnbrokenClientError> => {
  const { status, headers } = response
  const body = await readSnippet(response)
  const details = {
    status,
    body,
    serverCode: readErrorJson(body).code,
    retryable: RETRY_STATUS.includes(status),
    retryAfterMs: parseRetryAfter(headers.get('retry-after'), Date.now()),
  }
  const [code, why] =
    status === 200
      ? ([
          'invalid-content-type',
          `not text/event-stream but ${headers.get('content-type')}`,
        ] as const)
      : status === 401 || status === 403
        ? (['auth', status === 401 ? 'see onAuthRequired' : 'forbidden'] as const)
        : resuming && (status === 404 || status === 410)
          ? (['resume-failed', `cannot resume at ${url}`] as const)
          : (['http-status', url] as const)
  return new UnbrokenClientError(code, `HTTP ${status}: ${why}`, details)
}

/**
 * Turns the data of a protocol v1 `error` event into the error it reports. Data that is not the
 * error JSON fails for good, with a message that shows what arrived.
 */
export const eventError = (data: string): UnbrokenClientError => {
  const json = readErrorJson(data)
  return new UnbrokenClientError('server-error', json.message ?? data, {
    serverCode: json.code,
    retryable: json.retryable === true,
    // A negative or unreadable value means no hint, as for Retry-After: never a shorter wait.
    retryAfterMs: Math.max(Number(json.retryAfterMs) || 0, 0),
  })
}
