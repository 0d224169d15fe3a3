import { parseSse } from '@unbroken/test-kit'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { UnbrokenServerError } from './errors'
import { formatEvent } from './format'
import type { SseFields } from './types'

// The conformance table: input fields → exact wire bytes. The client's table in docs/protocol.md
// parses these same bytes back.
const conformance: ReadonlyArray<readonly [string, SseFields, string]> = [
  ['plain data', { data: 'hello' }, 'data: hello\n\n'],
  ['empty data', { data: '' }, 'data:\n\n'],
  ['LF splits data', { data: 'a\nb' }, 'data: a\ndata: b\n\n'],
  ['CR splits data', { data: 'a\rb' }, 'data: a\ndata: b\n\n'],
  ['CRLF splits data once', { data: 'a\r\nb' }, 'data: a\ndata: b\n\n'],
  ['LF CR is two breaks', { data: 'a\n\rb' }, 'data: a\ndata:\ndata: b\n\n'],
  ['mixed breaks', { data: 'a\nb\rc\r\nd' }, 'data: a\ndata: b\ndata: c\ndata: d\n\n'],
  ['trailing LF keeps an empty line', { data: 'a\n' }, 'data: a\ndata:\n\n'],
  ['leading LF', { data: '\na' }, 'data:\ndata: a\n\n'],
  ['only LF', { data: '\n' }, 'data:\ndata:\n\n'],
  ['blank lines inside', { data: 'a\n\n\nb' }, 'data: a\ndata:\ndata:\ndata: b\n\n'],
  ['leading space survives', { data: ' x' }, 'data:  x\n\n'],
  ['colon in data', { data: 'k: v' }, 'data: k: v\n\n'],
  ['data that looks like a field', { data: 'a\nevent: x' }, 'data: a\ndata: event: x\n\n'],
  ['JSON data', { data: '{"t":"hi"}' }, 'data: {"t":"hi"}\n\n'],
  ['NUL in data is data', { data: 'a\0b' }, 'data: a\0b\n\n'],
  ['unicode data', { data: 'héllo 🌍' }, 'data: héllo 🌍\n\n'],
  ['BOM inside data', { data: '\uFEFFx' }, 'data: \uFEFFx\n\n'],
  ['id and data', { id: '7', data: 'x' }, 'data: x\nid: 7\n\n'],
  ['numeric id 0', { id: 0, data: 'x' }, 'data: x\nid: 0\n\n'],
  ['string id 0', { id: '0', data: 'x' }, 'data: x\nid: 0\n\n'],
  ['empty id resets', { id: '', data: 'x' }, 'data: x\nid:\n\n'],
  ['id with spaces', { id: 'a b', data: 'x' }, 'data: x\nid: a b\n\n'],
  ['id with colon', { id: 's1:42', data: 'x' }, 'data: x\nid: s1:42\n\n'],
  ['event type', { event: 'delta', data: 'x' }, 'event: delta\ndata: x\n\n'],
  ['empty event', { event: '', data: 'x' }, 'event:\ndata: x\n\n'],
  ['event with colon', { event: 'a:b', data: 'x' }, 'event: a:b\ndata: x\n\n'],
  ['retry 0 (nothing to dispatch: no blank line)', { retry: 0 }, 'retry: 0\n'],
  ['retry with data', { retry: 3000, data: 'x' }, 'retry: 3000\ndata: x\n\n'],
  [
    'field order',
    { data: 'd', event: 'e', id: 'i', retry: 1, comment: 'c' },
    ': c\nretry: 1\nevent: e\ndata: d\nid: i\n\n',
  ],
  ['comment (nothing to dispatch: no blank line)', { comment: 'hi' }, ': hi\n'],
  ['empty comment (the heartbeat)', { comment: '' }, ':\n'],
  ['opening: comment and retry', { comment: 'ok', retry: 1000 }, ': ok\nretry: 1000\n'],
  ['multi-line comment', { comment: 'a\nb' }, ': a\n: b\n'],
  ['comment cannot inject data', { comment: 'x\ndata: evil' }, ': x\n: data: evil\n'],
  ['comment with CR', { comment: 'x\rid: 9' }, ': x\n: id: 9\n'],
  ['comment with CRLF', { comment: 'x\r\ny' }, ': x\n: y\n'],
  ['comment before data', { comment: 'c', data: 'd' }, ': c\ndata: d\n\n'],
  ['no fields', {}, ''],
  ['id alone keeps its blank line (it commits the id)', { id: '5' }, 'id: 5\n\n'],
  ['event alone keeps its blank line (it resets the type)', { event: 'x' }, 'event: x\n\n'],
  ['done terminal', { event: 'done', data: '{}' }, 'event: done\ndata: {}\n\n'],
  ['long data stays one line', { data: 'x'.repeat(64) }, `data: ${'x'.repeat(64)}\n\n`],
]

const refused: ReadonlyArray<readonly [string, SseFields, string]> = [
  ['LF in event', { event: 'a\ndata: injected', data: 'x' }, 'invalid-argument'],
  ['CR in event', { event: 'a\rb', data: 'x' }, 'invalid-argument'],
  ['CRLF in event', { event: 'a\r\nb', data: 'x' }, 'invalid-argument'],
  ['NUL in event', { event: 'a\0', data: 'x' }, 'invalid-argument'],
  ['LF in id', { id: '1\ndata: evil', data: 'x' }, 'invalid-argument'],
  ['CR in id', { id: '1\r', data: 'x' }, 'invalid-argument'],
  ['NUL in id', { id: '1\0', data: 'x' }, 'invalid-argument'],
  ['negative retry', { retry: -1 }, 'invalid-argument'],
  ['fractional retry', { retry: 1.5 }, 'invalid-argument'],
  ['NaN retry', { retry: Number.NaN }, 'invalid-argument'],
  ['non-string data', { data: { a: 1 } as unknown as string }, 'invalid-argument'],
]

describe('formatEvent conformance', () => {
  it.each(conformance)('%s', (_name, fields, wire) => {
    expect(formatEvent(fields)).toBe(wire)
  })

  it.each(refused)('refuses %s', (_name, fields, code) => {
    expect(() => formatEvent(fields)).toThrowError(expect.objectContaining({ code }))
  })

  it('throws the package error class', () => {
    expect(() => formatEvent({ id: '\n', data: '' })).toThrow(UnbrokenServerError)
  })

  it('has at least 40 wire cases', () => {
    expect(conformance.length + refused.length).toBeGreaterThanOrEqual(40)
  })
})

// The test kit's `parseSse` is a WHATWG event-stream interpreter independent of the formatter, so
// any data string can be checked to round-trip.
describe('formatEvent round trip', () => {
  it('any data string parses back with line breaks normalised to LF', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom('a', ' ', '\n', '\r', ':', 'é', 'data') }),
        (data) => {
          const [event] = parseSse(formatEvent({ data }))
          expect(event?.data).toBe(data.replace(/\r\n|\r/g, '\n'))
        },
      ),
    )
  })

  it('any id and event without CR/LF/NUL parse back exactly', () => {
    const safe = fc.string().filter((s) => !/[\r\n\0]/.test(s))
    fc.assert(
      fc.property(safe, safe, (id, type) => {
        const [event] = parseSse(formatEvent({ id, event: type, data: 'x' }))
        // An empty type is the default `message`, which the wire view leaves out.
        expect(event).toEqual(type === '' ? { id, data: 'x' } : { id, event: type, data: 'x' })
      }),
    )
  })

  // Without an event, a one-line `data` takes formatEvent's fast path: the id checks must hold there too.
  it('any id with one-line data parses back exactly, and an id with CR/LF/NUL is refused', () => {
    const line = fc.string().filter((s) => !/[\r\n]/.test(s))
    fc.assert(
      fc.property(fc.string(), line, (id, data) => {
        if (/[\r\n\0]/.test(id)) {
          expect(() => formatEvent({ id, data })).toThrowError(UnbrokenServerError)
          return
        }
        const [event] = parseSse(formatEvent({ id, data }))
        expect(event).toEqual({ id, data })
      }),
      {
        examples: [
          ['1\0', 'x'],
          ['a\rb', 'x'],
          ['', 'x'],
          ['7', ''],
        ],
      },
    )
  })

  it('a comment never dispatches anything', () => {
    fc.assert(
      fc.property(fc.string(), (comment) => {
        expect(parseSse(formatEvent({ comment }))).toEqual([])
      }),
    )
  })

  it('comment and retry lines never contain a blank line, even for clients that dispatch every block', () => {
    fc.assert(
      fc.property(fc.option(fc.string()), fc.option(fc.nat()), (comment, retry) => {
        const wire = formatEvent({ comment: comment ?? undefined, retry: retry ?? undefined })
        expect(wire.split('\n').slice(0, -1)).not.toContain('')
      }),
    )
  })

  it('comment and retry lines before an event leave that event unchanged', () => {
    fc.assert(
      fc.property(fc.string(), fc.nat(), fc.string(), (comment, retry, data) => {
        const event = formatEvent({ id: '1', event: 'delta', data })
        expect(parseSse(formatEvent({ comment, retry }) + event)).toEqual(parseSse(event))
      }),
    )
  })
})
