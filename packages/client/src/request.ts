import type { EventStreamOptions } from './types'

/**
 * The id's UTF-8 bytes as a ByteString, as `EventSource` sends it (HTML §9.2.3): header values
 * only take code points ≤ U+00FF, and a raw `日本` would make `fetch` throw on every reconnect.
 * TextEncoder turns a lone surrogate into U+FFFD instead of throwing.
 */
export const toByteString = (id: string): string => {
  let bytes = ''
  for (const byte of new TextEncoder().encode(id)) bytes += String.fromCharCode(byte)
  return bytes
}

/**
 * 128 random bits as base64url, the `Idempotency-Key` of one stream (agreement A4): every re-sent
 * `POST` carries the same key, so a server that honours it attaches instead of starting again.
 * `getRandomValues`, unlike `randomUUID`, also exists on pages that are not a secure context.
 */
export const createIdempotencyKey = (): string =>
  btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '')

/** What one attempt is: where it goes, whether it resumes, and from which id. */
export interface Attempt {
  readonly url: string
  /** A `GET` of the resume URL, without the body. */
  readonly resuming: boolean
  /** Consecutive failed attempts before this one. */
  readonly failures: number
  readonly lastEventId: string
  /** Sent with the first request's method; `undefined` sends none. */
  readonly idempotencyKey: string | undefined
}

/** The URL and `RequestInit` of one attempt. */
export const buildRequest = async (
  options: EventStreamOptions,
  { url, resuming, failures, lastEventId, idempotencyKey }: Attempt,
): Promise<[string, RequestInit & { headers: Headers }]> => {
  // fetch normalizes the case of standard methods itself.
  const method = resuming ? 'GET' : (options.method ?? 'GET')
  const given = options.headers
  const headers = new Headers(
    typeof given === 'function'
      ? await given({ url, method, attempt: failures, lastEventId })
      : given,
  )
  if (!headers.has('accept')) headers.set('accept', 'text/event-stream')
  if (idempotencyKey && !resuming && !headers.has('idempotency-key'))
    headers.set('idempotency-key', idempotencyKey)
  const param = options.lastEventIdQueryParam
  const target = new URL(url)
  if (lastEventId && param) target.searchParams.set(param, lastEventId)
  else if (lastEventId) headers.set('last-event-id', toByteString(lastEventId))
  return [
    target.href,
    {
      method,
      headers,
      body: resuming ? null : options.body,
      // As EventSource: a cached or revalidated copy of a live stream is never right.
      cache: 'no-store',
      credentials: options.credentials,
    },
  ]
}
