import { describe, expect, it } from 'vitest'
import { utf8Length } from './utf8'

// Every case is also checked against a long copy of itself, past the scratch buffer, so that the
// native count and the loop that takes over for long text agree.
const long = (text: string) => text.repeat(Math.ceil(20_000 / text.length))
const bytes = (text: string) => new TextEncoder().encode(text).byteLength

describe('utf8Length', () => {
  it.each([
    ['ASCII', '{"content":" token"}'],
    ['two-byte characters', 'naïve café Straße'],
    ['three-byte characters', '你好 — …'],
    ['surrogate pairs (four bytes)', '🦄🦄 ok'],
    ['a lone high surrogate, written as U+FFFD (three bytes)', 'a\uD83Eb'],
    ['a lone low surrogate', '\uDD84z'],
    ['a high surrogate at the very end', 'end\uD83E'],
  ])('counts %s as the UTF-8 encoder does', (_, text) => {
    expect(utf8Length(text)).toBe(bytes(text))
    expect(utf8Length(long(text))).toBe(bytes(long(text)))
  })

  it('counts the empty string as 0', () => {
    expect(utf8Length('')).toBe(0)
  })
})
