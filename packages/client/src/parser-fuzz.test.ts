import { bytes } from '@unbroken/test-kit/parser-cases'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createEventStreamParser } from './parser'

// Byte soup biased toward SSE syntax, so field names, line ends, BOMs and broken UTF-8 meet at
// every kind of chunk boundary.
const token = fc.oneof(
  fc.constantFrom(
    'data',
    'event',
    'id',
    'retry',
    ':',
    ' ',
    '\n',
    '\r',
    '\r\n',
    '12',
    'é',
    '🦄',
    '\0',
  ),
  fc.constantFrom([0xef, 0xbb, 0xbf], [0xff], [0xc3], [0xf0, 0x9f], [0xe2, 0x80]),
  fc.uint8Array({ maxLength: 8 }),
)
const streamBytes = fc
  .array(token, { maxLength: 60 })
  .map((tokens) => bytes(...tokens.map((t) => (typeof t === 'string' ? t : Array.from(t)))))

const parseAll = (chunks: Uint8Array[]) => {
  const out: unknown[] = []
  const parser = createEventStreamParser({
    onEvent: (e) => out.push(['event', e.type, e.data, e.lastEventId]),
    onRetry: (ms) => out.push(['retry', ms]),
    onComment: (text) => out.push(['comment', text]),
    maxEventBytes: 1 << 30,
  })
  for (const chunk of chunks) parser.write(chunk)
  parser.end()
  out.push(['lastEventId', parser.lastEventId])
  return out
}

describe('fuzz', () => {
  it('never throws on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.oneof(streamBytes, fc.uint8Array({ maxLength: 300 })), (bytes) => {
        parseAll([bytes])
      }),
      { numRuns: 2000 },
    )
  })

  it('gives the same output for any chunking of the same bytes', () => {
    fc.assert(
      fc.property(streamBytes, fc.array(fc.nat(), { maxLength: 12 }), (bytes, cuts) => {
        const offsets = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b)
        const bounds = [0, ...offsets, bytes.length]
        const chunks = bounds.slice(1).map((end, i) => bytes.subarray(bounds[i], end))
        expect(parseAll(chunks)).toEqual(parseAll([bytes]))
      }),
      { numRuns: 3000 },
    )
  })
})
