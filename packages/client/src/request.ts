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

/** The URL and `RequestInit` of one attempt; `resuming` turns it into a bodiless `GET`. */
export const buildRequest = async (
  options: EventStreamOptions,
  url: string,
  resuming: boolean,
  attempt: number,
  lastEventId: string,
): Promise<[string, RequestInit]> => {
  // fetch normalizes the case of standard methods itself.
  const method = resuming ? 'GET' : (options.method ?? 'GET')
  const given = options.headers
  const headers = new Headers(
    typeof given === 'function' ? await given({ url, method, attempt, lastEventId }) : given,
  )
  if (!headers.has('accept')) headers.set('accept', 'text/event-stream')
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
