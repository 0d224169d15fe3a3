import { describe, expect, it } from 'vitest'
import { decodeLastEventId, encodeIdHeader } from './last-event-id'

// What a Node or Fetch server sees when a browser sends `id`'s UTF-8 bytes as the header.
const asHeader = (id: string) => String.fromCharCode(...new TextEncoder().encode(id))

describe('decodeLastEventId', () => {
  it('passes an ASCII id through unchanged', () => {
    expect(decodeLastEventId('1700000000000-0')).toBe('1700000000000-0')
  })

  it('decodes the UTF-8 bytes a browser sends for a non-ASCII id', () => {
    expect(decodeLastEventId(asHeader('déjà-日本-🚀'))).toBe('déjà-日本-🚀')
  })

  it('reads a missing header as no cursor', () => {
    expect(decodeLastEventId(null)).toBeUndefined()
    expect(decodeLastEventId(undefined)).toBeUndefined()
  })
})

describe('encodeIdHeader', () => {
  it('writes a non-ASCII id as its UTF-8 bytes, which decodeLastEventId reads back', () => {
    expect(encodeIdHeader('déjà-🚀')).toBe(asHeader('déjà-🚀'))
    expect(decodeLastEventId(encodeIdHeader('déjà-🚀'))).toBe('déjà-🚀')
    expect(encodeIdHeader('0-42')).toBe('0-42')
  })
})
