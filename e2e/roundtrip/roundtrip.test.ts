import { createEventStreamParser, type ServerSentEvent } from '@unbroken/client/parser'
import { formatEvent, UnbrokenServerError } from '@unbroken/server'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

type Input = { event?: string | undefined; id?: string | undefined; data: string }

// Any Unicode text (astral planes included), plus the strings that try hardest to break framing.
const text = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.constantFrom(
    '',
    ' ',
    '  x',
    ':',
    'data: x',
    '\n',
    'a\n\nevent: evil\nid: 666\ndata: injected',
    '😀',
  ),
)
const fieldText = text.filter((s) => !/[\r\n\0]/.test(s))
const input: fc.Arbitrary<Input> = fc.record(
  { event: fieldText, id: fieldText, data: text },
  { requiredKeys: ['data'] },
)

const encoder = new TextEncoder()

/** Feeds `bytes` to a fresh parser in pieces cut at `splits` (byte offsets, any order). */
function parse(bytes: Uint8Array, splits: number[]): ServerSentEvent[] {
  const events: ServerSentEvent[] = []
  const parser = createEventStreamParser({ onEvent: (event) => events.push(event) })
  const cuts = [...new Set(splits.map((s) => s % (bytes.length + 1)))].sort((a, b) => a - b)
  let start = 0
  for (const cut of [...cuts, bytes.length]) {
    parser.write(bytes.subarray(start, cut))
    start = cut
  }
  parser.end()
  return events
}

/** What a spec parser must dispatch for `inputs`: SSE has no way to carry a CR, so CR and CRLF in data arrive as LF. */
function expected(inputs: Input[]): ServerSentEvent[] {
  let lastEventId = ''
  return inputs.map(({ event, id, data }) => {
    if (id !== undefined) lastEventId = id
    return { type: event || 'message', data: data.replace(/\r\n|\r/g, '\n'), lastEventId }
  })
}

const splits = fc.array(fc.nat(), { maxLength: 8 })

describe('formatEvent → createEventStreamParser round trip', () => {
  it('gives back one event with the same type, id and data', () => {
    fc.assert(
      fc.property(input, splits, (event, cuts) => {
        expect(parse(encoder.encode(formatEvent(event)), cuts)).toEqual(expected([event]))
      }),
      { numRuns: 2000 },
    )
  })

  it('gives back a whole stream of events, however the bytes are split', () => {
    fc.assert(
      fc.property(fc.array(input, { maxLength: 20 }), splits, (events, cuts) => {
        const wire = events.map((event) => formatEvent(event)).join('')
        expect(parse(encoder.encode(wire), cuts)).toEqual(expected(events))
      }),
      { numRuns: 500 },
    )
  })

  it('refuses a CR, LF or NUL in id or event at format time', () => {
    const injected = fc
      .tuple(
        fc.string({ maxLength: 10 }),
        fc.constantFrom('\r', '\n', '\r\n', '\0'),
        fc.string({ maxLength: 10 }),
      )
      .map(([before, breaker, after]) => `${before}${breaker}${after}`)
    fc.assert(
      fc.property(injected, fc.constantFrom('id', 'event'), (value, field) => {
        const attempt = () => formatEvent({ [field]: value, data: 'x' })
        expect(attempt).toThrow(UnbrokenServerError)
        expect(attempt).toThrow(expect.objectContaining({ code: 'invalid-argument' }))
      }),
    )
  })

  it('keeps a data value that looks like fields inside one event', () => {
    const data = 'x\n\nevent: evil\nid: 666\nretry: 1\ndata: injected'
    expect(parse(encoder.encode(formatEvent({ id: '1', data })), [])).toEqual([
      { type: 'message', data, lastEventId: '1' },
    ])
  })
})
