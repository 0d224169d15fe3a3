const utf8 = new TextDecoder()

/**
 * Reads a `Last-Event-ID` header value. Browsers send the id's UTF-8 bytes, and both Node and the
 * Fetch `Headers` hand header bytes over one per character (Latin-1), so a non-ASCII id must be
 * re-decoded; an ASCII id (every id our logs assign) passes through untouched.
 */
export function decodeLastEventId(header: string | null | undefined): string | undefined {
  if (header == null) return undefined
  if (!/[\u0080-\uffff]/.test(header)) return header
  return utf8.decode(Uint8Array.from(header, (char) => char.charCodeAt(0)))
}

/**
 * An id as a header value (`Unbroken-Replay-Through`): its UTF-8 bytes, one per character, the
 * same convention `Last-Event-ID` follows, so the client decodes both alike.
 */
export function encodeIdHeader(id: string): string {
  if (!/[\u0080-\uffff]/.test(id)) return id
  return String.fromCharCode(...new TextEncoder().encode(id))
}
