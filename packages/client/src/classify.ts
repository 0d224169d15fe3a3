import { UnbrokenClientError } from './errors'

/** Statuses that mean "try again later"; every other non-200 answer is final. */
const RETRY_STATUS = [408, 425, 429, 500, 502, 503, 504]

/**
 * Statuses that say the request was not processed (RFC 9110/6585/8470), so even a `POST` may be
 * re-sent: it cannot start a second generation. 401 is re-sent after refreshing credentials.
 */
export const RESENDABLE_STATUS = [401, 408, 425, 429, 503]

/** Compares the MIME essence, case-insensitively and ignoring parameters (HTML §9.2.3). */
export const isEventStream = (type: string | null): boolean =>
  /^text\/event-stream\s*(;|$)/i.test(type?.trim() ?? '')

// The first bytes of an error body, to show what the server said (an HTML login page, JSON…).
const snippet = async (response: Response): Promise<string> => {
  let text = ''
  const reader = response.body?.getReader()
  const decoder = new TextDecoder()
  try {
    while (reader && text.length < 512) {
      const { done, value } = await reader.read()
      if (done) break
      text += decoder.decode(value, { stream: true })
    }
    await reader?.cancel()
  } catch {
    // A body that fails mid-way still leaves the status to report.
  }
  return text.slice(0, 512)
}

/** Turns a response that did not open a stream into the error that says why, body snippet included. */
export const responseError = async (
  response: Response,
  resuming: boolean,
): Promise<UnbrokenClientError> => {
  const { status } = response
  const body = await snippet(response)
  let serverCode: string | undefined
  try {
    serverCode = JSON.parse(body).code
  } catch {
    // Not protocol v1 error JSON: the snippet alone describes it.
  }
  const details = { status, body, serverCode, retryable: RETRY_STATUS.includes(status) }
  const type = response.headers.get('content-type')
  if (status === 200)
    return new UnbrokenClientError(
      'invalid-content-type',
      `Expected text/event-stream but got ${type}: check the URL and the server's Content-Type.`,
      details,
    )
  if (status === 401 || status === 403)
    return new UnbrokenClientError(
      'auth',
      `${status} from the server: ${status === 401 ? 'pass onAuthRequired to refresh credentials' : 'not allowed'}.`,
      details,
    )
  if (resuming && (status === 404 || status === 410))
    return new UnbrokenClientError(
      'resume-failed',
      `${status} on resume: the stream is unknown or its cursor expired; start a new one.`,
      details,
    )
  return new UnbrokenClientError('http-status', `HTTP ${status} from ${response.url}`, details)
}
