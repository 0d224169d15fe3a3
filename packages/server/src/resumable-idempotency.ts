// Idempotent POST (DESIGN §4, agreement A4): a repeated POST with the same `Idempotency-Key` and
// principal names the same stream, so it attaches instead of starting a second generation.
import { UnbrokenServerError } from './errors'

// A key must be hard to guess: it becomes the stream's id, and two callers who send the same key
// under the same principal (two anonymous users, say) share one stream. The client sends 22+
// characters of randomness (128 bits) by default.
const KEY_PATTERN = /^[\x21-\x7e]{16,256}$/

/**
 * The stream id for an idempotency key: the first 128 bits of SHA-256(principal, key) as
 * base64url, shaped like a random id. Derived, not stored, so every instance sharing the event log
 * finds the same stream, and the log's own `stream-exists` settles two POSTs racing to create it.
 */
export async function idempotentStreamId(
  principal: string | undefined,
  key: string,
): Promise<string> {
  if (!KEY_PATTERN.test(key)) {
    throw new UnbrokenServerError(
      'invalid-argument',
      'Idempotency-Key must be 16 to 256 visible ASCII characters (send a random one per generation).',
    )
  }
  // The principal is length-prefixed so that no (principal, key) pair can collide with another.
  const scope = principal === undefined ? '-' : `${principal.length}:${principal}`
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(`${scope}\n${key}`))
  return encodeBase64Url(new Uint8Array(digest, 0, 16))
}

/** Bytes as unpadded base64url, the alphabet of stream ids. */
export function encodeBase64Url(bytes: Uint8Array): string {
  let binary = ''
  for (const byte of bytes) binary += String.fromCharCode(byte)
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}
