import type { LoggedEvent } from '@unbroken/server'
import { stateError } from './errors'

/**
 * Stream entries are events (`d` = data, `e` = event type when set) or markers (`c`): `open` is
 * written by create, so the key exists with a TTL before the first event; `complete`, `lost` and
 * `failed` are terminal and written by one atomic script, so every reader stops at the same place.
 */
export type Entry =
  | { readonly kind: 'event'; readonly event: LoggedEvent }
  | { readonly kind: 'open' }
  | { readonly kind: 'end' }

/** Decodes one entry, or throws the error its terminal marker stands for. */
export function decodeEntry(id: string, message: Readonly<Record<string, string>>): Entry {
  const data = message.d
  if (data !== undefined) {
    const event = message.e
    return { kind: 'event', event: event === undefined ? { id, data } : { id, event, data } }
  }
  switch (message.c) {
    case 'open':
      return { kind: 'open' }
    case 'complete':
      return { kind: 'end' }
    case 'lost':
      throw stateError('lost')
    default:
      throw stateError('failed')
  }
}

/** The event an entry holds, or `undefined` for a marker. */
export function eventOf(
  id: string,
  message: Readonly<Record<string, string>>,
): LoggedEvent | undefined {
  const { d: data, e: event } = message
  if (data === undefined) return undefined
  return event === undefined ? { id, data } : { id, event, data }
}

/** What an event costs against `maxBytes`: UTF-8 bytes of data and event type, as the memory log. */
export function eventBytes(data: string, event: string | undefined): number {
  return Buffer.byteLength(data) + (event === undefined ? 0 : Buffer.byteLength(event))
}
