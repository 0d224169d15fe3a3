import { type ParserCase, parserCases } from '@unbroken/test-kit/parser-cases'
import { describe, expect, it } from 'vitest'
import { UnbrokenClientError } from './errors'
import {
  createEventStreamParser,
  type EventStreamParserOptions,
  type ServerSentEvent,
} from './parser'

type Chunk = Uint8Array | string

const run = (chunks: Chunk[], initialLastEventId?: string) => {
  const events: ServerSentEvent[] = []
  const retries: number[] = []
  const comments: string[] = []
  const parser = createEventStreamParser({
    onEvent: (event) => events.push(event),
    onRetry: (ms) => retries.push(ms),
    onComment: (text) => comments.push(text),
    lastEventId: initialLastEventId,
  })
  for (const chunk of chunks) parser.write(chunk)
  parser.end()
  return { events, retries, comments, lastEventId: parser.lastEventId }
}

/** A parser that records the data of every event it dispatches. */
const recording = (options: Omit<EventStreamParserOptions, 'onEvent'> = {}) => {
  const events: string[] = []
  const parser = createEventStreamParser({ onEvent: (e) => events.push(e.data), ...options })
  return { parser, events }
}

const expected = (c: ParserCase) => ({
  events: c.events,
  retries: c.retries ?? [],
  comments: c.comments ?? [],
  lastEventId: c.lastEventId ?? c.events.at(-1)?.lastEventId ?? c.initialLastEventId ?? '',
})

const cut = (input: Chunk, offsets: number[]): Chunk[] => {
  const bounds = [0, ...offsets, input.length]
  return bounds.slice(1).map((end, i) => input.slice(bounds[i], end))
}

// Keeps the pair loop bounded for the few long cases (the WPT comments vector is 4 KB).
const pairStride = (length: number) => Math.max(1, Math.ceil(length / 120))

const forms = (c: ParserCase): Array<[string, Chunk]> =>
  typeof c.input === 'string'
    ? [
        ['text', c.input],
        ['bytes', new TextEncoder().encode(c.input)],
      ]
    : [['bytes', c.input]]

describe('conformance table', () => {
  it('has at least 120 cases with unique names', () => {
    const names = new Set(parserCases.map((c) => c.name))
    expect(parserCases.length).toBeGreaterThanOrEqual(120)
    expect(names.size).toBe(parserCases.length)
  })

  for (const c of parserCases) {
    describe(c.name, () => {
      for (const [form, input] of forms(c)) {
        it(`${form}: whole`, () => {
          expect(run([input], c.initialLastEventId)).toEqual(expected(c))
        })

        it(`${form}: split at every offset`, () => {
          for (let i = 0; i <= input.length; i++) {
            expect(run(cut(input, [i]), c.initialLastEventId), `split at ${i}`).toEqual(expected(c))
          }
        })

        it(`${form}: split at every pair of offsets`, () => {
          const want = expected(c)
          const step = pairStride(input.length)
          for (let i = 1; i < input.length; i += step) {
            for (let j = i; j < input.length; j += step) {
              const got = run(cut(input, [i, j]), c.initialLastEventId)
              if (JSON.stringify(got) !== JSON.stringify(want)) {
                expect(got, `split at ${i} and ${j}`).toEqual(want)
              }
            }
          }
        })

        it(`${form}: one unit per chunk`, () => {
          const units = Array.from({ length: input.length }, (_, i) => input.slice(i, i + 1))
          expect(run(units, c.initialLastEventId)).toEqual(expected(c))
        })
      }
    })
  }
})

describe('dispatch timing', () => {
  it('dispatches a block ended by CR CR without waiting for more input', () => {
    const { parser, events } = recording()
    parser.write('data: a\r\r')
    expect(events).toEqual(['a'])
  })

  it('dispatches when the second CR arrives in its own chunk', () => {
    const { parser, events } = recording()
    parser.write('data: a\r')
    parser.write('\r')
    expect(events).toEqual(['a'])
  })

  it('swallows an LF that arrives in the next chunk after a CR', () => {
    const { parser, events } = recording()
    parser.write('data: a\r')
    parser.write('\ndata: b\r\n\r')
    parser.write('\n')
    expect(events).toEqual(['a\nb'])
  })

  it('keeps the pending LF swallow across an empty chunk', () => {
    const { parser, events } = recording()
    parser.write('data: a\r')
    parser.write(new Uint8Array(0))
    parser.write('\ndata: b\n\n')
    expect(events).toEqual(['a\nb'])
  })

  it('dispatches each event during the write that completes it', () => {
    const seen: string[] = []
    const parser = createEventStreamParser({ onEvent: (e) => seen.push(e.data) })
    parser.write('data: 1\n\ndata: 2')
    expect(seen).toEqual(['1'])
    parser.write('\n\n')
    expect(seen).toEqual(['1', '2'])
  })
})

describe('lastEventId', () => {
  it('changes only when the block completes', () => {
    const parser = createEventStreamParser({ onEvent: () => {} })
    parser.write('id: 1\ndata: a\n')
    expect(parser.lastEventId).toBe('')
    parser.write('\n')
    expect(parser.lastEventId).toBe('1')
  })

  it('starts from the lastEventId option', () => {
    const parser = createEventStreamParser({ onEvent: () => {}, lastEventId: '41' })
    expect(parser.lastEventId).toBe('41')
  })

  it('survives end(), which drops the unterminated block', () => {
    const parser = createEventStreamParser({ onEvent: () => {} })
    parser.write('id: 1\n\nid: 2\ndata: x\n')
    parser.end()
    expect(parser.lastEventId).toBe('1')
  })
})

describe('onId', () => {
  const idOnlyBlocks = (chunks: Chunk[]) => {
    const ids: string[] = []
    const parser = createEventStreamParser({ onEvent: () => {}, onId: (id) => ids.push(id) })
    for (const chunk of chunks) parser.write(chunk)
    return ids
  }
  // Events with ids (on both the fast `data:` path and the general one), each followed by a blank
  // line, a comment block, a blank block and an ignored NUL id around the three id-only blocks
  // `2`, `` and `3`.
  const wire =
    'id: 1\ndata: a\n\n\nid: 2\n\n: c\n\n\nid:\r\n\r\nid: x\ndata: b\ndata: c\n\n\n' +
    'id: a\0b\n\nid: 3\nevent: x\n\ndata: no id\n\n'

  it('reports each block with an id but no data, and nothing else', () => {
    expect(idOnlyBlocks([wire])).toEqual(['2', '', '3'])
  })

  it('reports the same blocks for any split of the input', () => {
    for (let i = 0; i <= wire.length; i++) {
      expect(idOnlyBlocks(cut(wire, [i])), `split at ${i}`).toEqual(['2', '', '3'])
    }
  })

  it('forgets the id of a block that end() discarded', () => {
    const ids: string[] = []
    const parser = createEventStreamParser({ onEvent: () => {}, onId: (id) => ids.push(id) })
    parser.write('id: 5\n')
    parser.end()
    parser.write('\n')
    expect(ids).toEqual([])
  })
})

describe('input forms', () => {
  it('does not decode a text chunk again', () => {
    const { parser, events } = recording()
    parser.write('data: Ã©\n\n')
    expect(events).toEqual(['Ã©'])
  })

  it('strips a BOM split across byte chunks', () => {
    const { parser, events } = recording()
    for (const byte of [0xef, 0xbb, 0xbf]) parser.write(new Uint8Array([byte]))
    parser.write('data: a\n\n')
    expect(events).toEqual(['a'])
  })

  it('treats a write after end() as a new stream with its own BOM', () => {
    const events: ServerSentEvent[] = []
    const parser = createEventStreamParser({ onEvent: (e) => events.push(e) })
    parser.write('id: 7\ndata: a\n\ndata: cut')
    parser.end()
    parser.write('\uFEFFdata: b\n\n')
    expect(events).toEqual([
      { type: 'message', data: 'a', lastEventId: '7' },
      { type: 'message', data: 'b', lastEventId: '7' },
    ])
  })

  it('does not carry the id of a discarded block into the next stream', () => {
    const events: ServerSentEvent[] = []
    const parser = createEventStreamParser({ onEvent: (e) => events.push(e) })
    parser.write('id: 1\n\nid: 2\ndata: cut\n')
    parser.end()
    parser.write('data: b\n\n')
    expect(events).toEqual([{ type: 'message', data: 'b', lastEventId: '1' }])
  })

  it('flushes a truncated UTF-8 sequence at end() without dispatching it', () => {
    const { parser, events } = recording()
    parser.write(new Uint8Array([0x64, 0x61, 0x74, 0x61, 0x3a, 0xe4, 0xbd]))
    parser.end()
    parser.write('data: next\n\n')
    expect(events).toEqual(['next'])
  })
})

describe('maxEventBytes', () => {
  const tooLarge = (fn: () => void) => {
    try {
      fn()
    } catch (error) {
      return error
    }
    throw new Error('expected a throw')
  }

  it('rejects a non-positive limit at creation', () => {
    const error = tooLarge(() => createEventStreamParser({ onEvent: () => {}, maxEventBytes: 0 }))
    expect(error).toBeInstanceOf(UnbrokenClientError)
    expect((error as UnbrokenClientError).code).toBe('invalid-argument')
  })

  it('accepts an event exactly at the limit', () => {
    // The unfinished line `data:xxxxx` is 10 units long.
    const { parser, events } = recording({ maxEventBytes: 10 })
    parser.write('data:xxxxx')
    parser.write('\n\n')
    expect(events).toEqual(['xxxxx'])
  })

  it('throws event-too-large for a line longer than the limit in one chunk', () => {
    const parser = createEventStreamParser({ onEvent: () => {}, maxEventBytes: 16 })
    const error = tooLarge(() => parser.write(`: ${'x'.repeat(20)}\n`))
    expect(error).toBeInstanceOf(UnbrokenClientError)
    expect((error as UnbrokenClientError).code).toBe('event-too-large')
    expect((error as Error).message).toMatch(/maxEventBytes \(16\)/)
  })

  it('throws event-too-large for an unfinished line that grows past the limit', () => {
    const parser = createEventStreamParser({ onEvent: () => {}, maxEventBytes: 16 })
    parser.write('data: 0123456')
    const error = tooLarge(() => parser.write('789abcdef'))
    expect((error as UnbrokenClientError).code).toBe('event-too-large')
  })

  it('throws event-too-large for many short data lines that never end the event', () => {
    const parser = createEventStreamParser({ onEvent: () => {}, maxEventBytes: 64 })
    const error = tooLarge(() => {
      for (let i = 0; i < 100; i++) parser.write('data: abc\n')
    })
    expect((error as UnbrokenClientError).code).toBe('event-too-large')
  })

  it('keeps events dispatched before the failure and fails every later call', () => {
    const { parser, events } = recording({ maxEventBytes: 16 })
    const first = tooLarge(() => parser.write(`data: ok\n\ndata: ${'x'.repeat(40)}\n\n`))
    expect(events).toEqual(['ok'])
    const again = tooLarge(() => parser.write('data: small\n\n'))
    expect((again as UnbrokenClientError).code).toBe('event-too-large')
    expect(again).toBe(first)
    expect(tooLarge(() => parser.end())).toBe(first)
    expect(events).toEqual(['ok'])
  })

  it('does not count comments and ids of earlier blocks against the event', () => {
    const { parser, events } = recording({ maxEventBytes: 16 })
    for (let i = 0; i < 50; i++) parser.write(': keepalive\nid: 123456\n\n')
    parser.write('data: fine\n\n')
    expect(events).toEqual(['fine'])
  })

  it('parses a 4 MB line fed in 1 KB chunks (linear buffering)', () => {
    const payload = 'y'.repeat(4 * 1024 * 1024)
    const body = new TextEncoder().encode(`data: ${payload}\n\n`)
    const { parser, events } = recording({ maxEventBytes: 8 * 1024 * 1024 })
    for (let i = 0; i < body.length; i += 1024) parser.write(body.subarray(i, i + 1024))
    parser.end()
    expect(events.length).toBe(1)
    expect(events[0] === payload).toBe(true)
  })
})
