// What a visitor can do about an error, by its code: the client's own, or the server's
// (`serverCode`, e.g. the proxy's `upstream-timeout`).
import type { UnbrokenClientError } from '@unbroken/client'

const BY_SERVER_CODE: Record<string, string> = {
  'upstream-timeout': 'The model went silent. Regenerate to ask again.',
  'upstream-truncated': 'The model broke off mid-answer. Regenerate to ask again.',
  'upstream-error': 'The model reported an error. Regenerate to ask again.',
  'upstream-unavailable': 'The model could not be reached. Regenerate in a moment.',
  'upstream-rate-limited': 'The model is rate-limited. Wait a little, then Regenerate.',
  'upstream-auth': 'The proxy’s key for the model was refused: fix --upstream-key.',
  'upstream-rejected': 'The model refused this request. Change the question and send it again.',
  'max-duration': 'The answer ran longer than the proxy allows (--max-duration).',
  'stream-limit': 'The proxy is at its stream limit. Try again in a moment.',
  'shutting-down': 'The proxy is restarting. Retry to resume.',
  'unknown-stream': 'The proxy no longer has this answer (restarted or expired). Regenerate.',
  'cursor-expired': 'The proxy no longer holds this part of the answer. Regenerate.',
}

const BY_CODE: Partial<Record<UnbrokenClientError['code'], string>> = {
  network: 'The proxy cannot be reached. Is `pnpm demo` still running? Then Retry.',
  'retries-exhausted': 'The network kept failing. Retry to resume where the answer stopped.',
  'idle-timeout': 'Nothing arrived for too long. Retry to resume.',
  auth: 'The proxy refused the token. Reload the page to get a new one.',
  'resume-failed': 'This answer cannot be resumed. Regenerate to ask again.',
}

/** One sentence: what to do next. */
export function adviceFor(error: UnbrokenClientError): string {
  return (
    (error.serverCode && BY_SERVER_CODE[error.serverCode]) ||
    BY_CODE[error.code] ||
    'Retry, or Regenerate to ask again.'
  )
}
