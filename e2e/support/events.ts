import type { ServerSentEvent } from '@unbroken/client'
import type { ComparableEvent } from './compare'

/**
 * A small stream that exercises what peers get wrong: multi-line data, multi-byte and astral text,
 * a leading space, an empty value, colons in data, custom types, and the protocol v1 `done`.
 */
export const CANONICAL_EVENTS: readonly ComparableEvent[] = [
  { type: 'meta', id: '1', data: '{"model":"sim","stream":true}' },
  { type: 'message', id: '2', data: 'héllo wörld' },
  { type: 'message', id: '3', data: 'line one\nline two\n\nline four' },
  { type: 'delta', id: '4', data: '日本語のテキスト 😀👍🏽 Ω≈ç√ עברית' },
  { type: 'delta', id: '5', data: '  two leading spaces' },
  { type: 'delta', id: '6', data: '' },
  { type: 'delta', id: '7', data: 'colon: inside: data: here' },
  { type: 'delta', id: '8', data: 'ends with a newline\n' },
  { type: 'done', id: '9', data: '{}' },
]

/** The comparable view of an event our client dispatched. */
export function toComparable(event: ServerSentEvent): ComparableEvent {
  return { type: event.type, id: event.lastEventId, data: event.data }
}
