// Conformance table for the event-stream parser, written from WHATWG HTML §9.2.5–9.2.6
// ("Parsing an event stream", "Interpreting an event stream") and the web-platform-tests
// `eventsource/format-*` vectors. Each case states what a browser's native EventSource dispatches
// for the input, whatever the chunking.

/** What a native `MessageEvent` carries: `type`, `data` and the persisted `lastEventId`. */
export type ExpectedEvent = { type: string; data: string; lastEventId: string }

export type ParserCase = {
  name: string
  /** Text is also tested as its UTF-8 bytes; bytes carry what text cannot (invalid UTF-8). */
  input: string | Uint8Array
  events: ExpectedEvent[]
  /** `retry:` values reported, in order. Default: none. */
  retries?: number[]
  /** Comment texts reported, in order. Default: none. */
  comments?: string[]
  /** The parser's `lastEventId` after `end()`. Default: the last event's, else the initial one. */
  lastEventId?: string
  /** The `lastEventId` option, as a reconnecting reader passes it. */
  initialLastEventId?: string
}

/** An expected event; `type` defaults to "message" and `id` to the empty last event ID. */
export const ev = (data: string, opts: { type?: string; id?: string } = {}): ExpectedEvent => ({
  type: opts.type ?? 'message',
  data,
  lastEventId: opts.id ?? '',
})

/** Concatenates UTF-8 text and raw byte values into one byte array. */
export const bytes = (...parts: Array<string | number[]>): Uint8Array => {
  const encoder = new TextEncoder()
  const arrays = parts.map((part) => (typeof part === 'string' ? encoder.encode(part) : part))
  const out = new Uint8Array(arrays.reduce((n, a) => n + a.length, 0))
  let offset = 0
  for (const a of arrays) {
    out.set(a, offset)
    offset += a.length
  }
  return out
}

const x2048 = 'x'.repeat(2048)

const dataField: ParserCase[] = [
  { name: 'data without space', input: 'data:test\n\n', events: [ev('test')] },
  { name: 'data with one space stripped', input: 'data: test\n\n', events: [ev('test')] },
  { name: 'only one leading space stripped', input: 'data:  test\n\n', events: [ev(' test')] },
  { name: 'leading tab kept', input: 'data:\ttest\n\n', events: [ev('\ttest')] },
  { name: 'trailing spaces kept', input: 'data: test  \n\n', events: [ev('test  ')] },
  { name: 'colon-less data line is an empty data line', input: 'data\n\n', events: [ev('')] },
  { name: 'empty data value dispatches empty string', input: 'data:\n\n', events: [ev('')] },
  { name: 'data with only a space is empty', input: 'data: \n\n', events: [ev('')] },
  { name: 'two empty data lines give one LF', input: 'data:\ndata:\n\n', events: [ev('\n')] },
  { name: 'data lines join with LF', input: 'data: a\ndata: b\n\n', events: [ev('a\nb')] },
  { name: 'empty first data line kept', input: 'data:\ndata: x\n\n', events: [ev('\nx')] },
  { name: 'empty last data line kept', input: 'data: x\ndata:\n\n', events: [ev('x\n')] },
  {
    name: 'spec example: stock ticker lines',
    input: 'data: YHOO\ndata: +2\ndata: 10\n\n',
    events: [ev('YHOO\n+2\n10')],
  },
  {
    name: 'spec example: ids and comment',
    input:
      ': test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  third event\n\n',
    events: [ev('first event', { id: '1' }), ev('second event'), ev(' third event')],
    comments: ['test stream'],
  },
  {
    name: 'spec example: empty and LF data, unterminated tail discarded',
    input: 'data\n\ndata\ndata\n\ndata:',
    events: [ev(''), ev('\n')],
  },
  {
    name: 'spec example: space after colon is optional',
    input: 'data:test\n\ndata: test\n\n',
    events: [ev('test'), ev('test')],
  },
  {
    name: 'WPT format-field-data',
    input: 'data:\n\ndata\ndata\n\ndata:test\n\n',
    events: [ev(''), ev('\n'), ev('test')],
  },
  {
    name: 'blank lines after an event dispatch nothing',
    input: 'data: a\n\n\n\n\n',
    events: [ev('a')],
  },
  { name: 'blank lines before the first event', input: '\n\n\ndata: a\n\n', events: [ev('a')] },
  { name: 'two events', input: 'data: a\n\ndata: b\n\n', events: [ev('a'), ev('b')] },
  { name: 'colons inside data kept', input: 'data: a:b:c\n\n', events: [ev('a:b:c')] },
  { name: 'value starting with a colon', input: 'data:: x\n\n', events: [ev(': x')] },
  {
    name: 'JSON data',
    input: 'data: {"a":1,"b":"x y"}\n\n',
    events: [ev('{"a":1,"b":"x y"}')],
  },
  {
    name: 'NUL in data kept (WPT format-null-character)',
    input: 'data:\0\n\n',
    events: [ev('\0')],
  },
  { name: 'NUL inside data kept', input: 'data: a\0b\n\n', events: [ev('a\0b')] },
  {
    name: 'WPT format-field-parsing',
    input:
      'data:\0\ndata:  2\rData:1\ndata\0:2\ndata:1\r\0data:4\nda-ta:3\rdata_5\ndata:3\rdata:\r\n data:32\ndata:4\n\n',
    events: [ev('\0\n 2\n1\n3\n\n4')],
  },
  {
    name: 'WPT format-field-unknown',
    input: 'data:test\n data\ndata\nfoobar:xxx\njustsometext\n:thisisacommentyay\ndata:test\n\n',
    events: [ev('test\n\ntest')],
    comments: ['thisisacommentyay'],
  },
  {
    name: 'WPT format-leading-space',
    input: 'data:\ttest\rdata: \ndata:test\n\n',
    events: [ev('\ttest\n\ntest')],
  },
  {
    name: 'WPT format-newlines',
    input: 'data:test\r\ndata\ndata:test\r\n\r\n',
    events: [ev('test\n\ntest')],
  },
  {
    name: 'WPT format-comments',
    input: `data:1\r:\0\n:\r\ndata:2\n:${x2048}\rdata:3\n:data:fail\r:${x2048}\ndata:4\n\n`,
    events: [ev('1\n2\n3\n4')],
    comments: ['\0', '', x2048, 'data:fail', x2048],
  },
  { name: 'field names are case-sensitive: Data', input: 'Data: x\n\n', events: [] },
  { name: 'field names are case-sensitive: DATA', input: 'DATA: x\n\n', events: [] },
  { name: 'leading space makes an unknown field', input: ' data: x\n\n', events: [] },
  { name: 'space before the colon makes an unknown field', input: 'data : x\n\n', events: [] },
  { name: 'longer name is unknown', input: 'datas: x\n\n', events: [] },
  { name: 'shorter name is unknown', input: 'dat: x\n\n', events: [] },
  { name: 'unknown field with value ignored', input: 'foo: bar\n\n', events: [] },
  { name: 'unknown colon-less field ignored', input: 'foo\n\n', events: [] },
  {
    name: 'unknown field inside an event ignored',
    input: 'data: a\nfoo: bar\n\n',
    events: [ev('a')],
  },
  { name: 'empty input', input: '', events: [] },
  { name: 'unterminated line discarded', input: 'data: a', events: [] },
  { name: 'event without blank line discarded', input: 'data: a\n', events: [] },
  {
    name: 'only the terminated events of a stream dispatch',
    input: 'data: a\n\ndata: partial\n',
    events: [ev('a')],
  },
]

const eventField: ParserCase[] = [
  {
    name: 'event sets the type',
    input: 'event: add\ndata: x\n\n',
    events: [ev('x', { type: 'add' })],
  },
  {
    name: 'WPT format-field-event: type resets after dispatch',
    input: 'event:test\ndata:x\n\ndata:x\n\n',
    events: [ev('x', { type: 'test' }), ev('x')],
  },
  { name: 'WPT format-field-event-empty', input: 'event: \ndata:data\n\n', events: [ev('data')] },
  { name: 'colon-less event means message', input: 'event\ndata: x\n\n', events: [ev('x')] },
  {
    name: 'last event line wins',
    input: 'event: a\nevent: b\ndata: x\n\n',
    events: [ev('x', { type: 'b' })],
  },
  {
    name: 'event without data is not dispatched and its type is reset',
    input: 'event: x\n\ndata: y\n\n',
    events: [ev('y')],
  },
  { name: 'Event is not event', input: 'Event: x\ndata: y\n\n', events: [ev('y')] },
  {
    name: 'only one space stripped from the type',
    input: 'event:  x\ndata: y\n\n',
    events: [ev('y', { type: ' x' })],
  },
  { name: 'explicit message type', input: 'event: message\ndata: y\n\n', events: [ev('y')] },
  {
    name: 'type with a space inside',
    input: 'event: a b\ndata: y\n\n',
    events: [ev('y', { type: 'a b' })],
  },
  {
    name: 'event after data in the same block applies',
    input: 'data: y\nevent: late\n\n',
    events: [ev('y', { type: 'late' })],
  },
  { name: 'non-ASCII type', input: 'event: é\ndata: y\n\n', events: [ev('y', { type: 'é' })] },
  { name: 'unterminated typed event discarded', input: 'event: x\ndata: y\n', events: [] },
]

const idField: ParserCase[] = [
  { name: 'id sets lastEventId', input: 'id: 1\ndata: a\n\n', events: [ev('a', { id: '1' })] },
  {
    name: 'WPT format-field-id-3: id persists',
    input: 'id: 1\ndata: 1\n\ndata:2\n\n',
    events: [ev('1', { id: '1' }), ev('2', { id: '1' })],
  },
  {
    name: 'WPT format-field-id-3: id changes',
    input: 'id: 1\ndata: 1\n\nid: 2\ndata:2\n\ndata:3\n\n',
    events: [ev('1', { id: '1' }), ev('2', { id: '2' }), ev('3', { id: '2' })],
  },
  {
    name: 'WPT format-field-id-3: empty id resets',
    input: 'id: 1\ndata: 1\n\nid:\ndata:2\n\ndata:3\n\n',
    events: [ev('1', { id: '1' }), ev('2'), ev('3')],
  },
  {
    name: 'colon-less id resets',
    input: 'id: 1\ndata: 1\n\nid\ndata:2\n\n',
    events: [ev('1', { id: '1' }), ev('2')],
  },
  {
    name: 'id-only block updates lastEventId',
    input: 'id: 5\n\ndata: x\n\n',
    events: [ev('x', { id: '5' })],
  },
  { name: 'id-only stream', input: 'id: 5\n\n', events: [], lastEventId: '5' },
  { name: 'unterminated id not committed', input: 'id: 5\n', events: [], lastEventId: '' },
  { name: 'id after data applies', input: 'data: x\nid: 7\n\n', events: [ev('x', { id: '7' })] },
  { name: 'id with NUL inside ignored', input: 'id: x\0y\ndata: a\n\n', events: [ev('a')] },
  {
    name: 'id with NUL keeps the previous id',
    input: 'id: 1\ndata: a\n\nid: 2\0\ndata: b\n\n',
    events: [ev('a', { id: '1' }), ev('b', { id: '1' })],
  },
  { name: 'WPT format-field-id-null: NUL NUL', input: 'id: \0\0\ndata: a\n\n', events: [ev('a')] },
  { name: 'WPT format-field-id-null: x NUL', input: 'id: x\0\ndata: a\n\n', events: [ev('a')] },
  { name: 'WPT format-field-id-null: NUL x', input: 'id: \0x\ndata: a\n\n', events: [ev('a')] },
  { name: 'WPT format-field-id-null: x NUL x', input: 'id: x\0x\ndata: a\n\n', events: [ev('a')] },
  { name: 'WPT format-field-id-null: space NUL', input: 'id:  \0\ndata: a\n\n', events: [ev('a')] },
  {
    name: 'id-only block with NUL commits nothing new',
    input: 'id: 1\n\nid: \0\n\n',
    events: [],
    lastEventId: '1',
  },
  {
    name: 'only one space stripped from id',
    input: 'id:  1\ndata: a\n\n',
    events: [ev('a', { id: ' 1' })],
  },
  { name: 'last id line wins', input: 'id: 1\nid: 2\ndata: a\n\n', events: [ev('a', { id: '2' })] },
  { name: 'ID is not id', input: 'ID: 1\ndata: a\n\n', events: [ev('a')] },
  { name: 'non-ASCII id', input: 'id: é🦄…\ndata: a\n\n', events: [ev('a', { id: 'é🦄…' })] },
  {
    name: 'WPT format-data-before-final-empty-line',
    input: 'retry:1000\ndata:test1\n\nid:test\ndata:test2\n',
    events: [ev('test1')],
    retries: [1000],
    lastEventId: '',
  },
  {
    name: 'id of the unterminated final block is not committed',
    input: 'id: 1\ndata: a\n\nid: 2\ndata: b',
    events: [ev('a', { id: '1' })],
    lastEventId: '1',
  },
  { name: 'successive id-only blocks', input: 'id: 3\n\nid: 4\n\n', events: [], lastEventId: '4' },
  {
    name: 'typed block without data commits its id',
    input: 'id: 1\nevent: x\n\ndata: y\n\n',
    events: [ev('y', { id: '1' })],
  },
  {
    name: 'initial lastEventId carries into events',
    input: 'data: a\n\n',
    initialLastEventId: 'prev',
    events: [ev('a', { id: 'prev' })],
  },
  {
    name: 'initial lastEventId can be reset by an empty id',
    input: 'id:\ndata: a\n\n',
    initialLastEventId: 'prev',
    events: [ev('a')],
  },
  {
    name: 'initial lastEventId kept when the id block is unterminated',
    input: 'id: 9\n',
    initialLastEventId: 'prev',
    events: [],
  },
  {
    name: 'initial lastEventId replaced by a new id',
    input: 'id: 10\ndata: a\n\n',
    initialLastEventId: '9',
    events: [ev('a', { id: '10' })],
  },
]

const retryField: ParserCase[] = [
  { name: 'retry reported', input: 'retry: 1000\n\n', events: [], retries: [1000] },
  {
    name: 'WPT format-field-retry: leading zeros',
    input: 'retry:03000\ndata:x\n\n',
    events: [ev('x')],
    retries: [3000],
  },
  {
    name: 'WPT format-field-retry-bogus',
    input: 'retry:3000\nretry:1000x\ndata:x\n\n',
    events: [ev('x')],
    retries: [3000],
  },
  { name: 'WPT format-field-retry-empty', input: 'retry\ndata:test\n\n', events: [ev('test')] },
  { name: 'empty retry value ignored', input: 'retry:\n\n', events: [] },
  { name: 'retry of only a space ignored', input: 'retry: \n\n', events: [] },
  { name: 'retry with two leading spaces ignored', input: 'retry:  1000\n\n', events: [] },
  { name: 'negative retry ignored', input: 'retry: -5\n\n', events: [] },
  { name: 'exponent retry ignored', input: 'retry: 1e3\n\n', events: [] },
  { name: 'fractional retry ignored', input: 'retry: 1.5\n\n', events: [] },
  { name: 'hex retry ignored', input: 'retry: 0x10\n\n', events: [] },
  { name: 'plus sign retry ignored', input: 'retry: +5\n\n', events: [] },
  { name: 'trailing space retry ignored', input: 'retry: 1000 \n\n', events: [] },
  { name: 'full-width digits ignored', input: 'retry: １２\n\n', events: [] },
  { name: 'zero retry accepted', input: 'retry: 0\n\n', events: [], retries: [0] },
  {
    name: 'every retry reported',
    input: 'retry: 100\nretry: 200\n\n',
    events: [],
    retries: [100, 200],
  },
  { name: 'Retry is not retry', input: 'Retry: 100\n\n', events: [] },
  {
    name: 'retry applies at its line, without a blank line',
    input: 'retry: 100\n',
    events: [],
    retries: [100],
  },
  {
    name: 'retry does not make an event',
    input: 'retry: 5\ndata: a\n\n',
    events: [ev('a')],
    retries: [5],
  },
]

const comments: ParserCase[] = [
  { name: 'comment with space', input: ': hello\n\n', events: [], comments: ['hello'] },
  { name: 'comment without space', input: ':hello\n\n', events: [], comments: ['hello'] },
  { name: 'empty comment', input: ':\n\n', events: [], comments: [''] },
  { name: 'heartbeat comment without a blank line', input: ':\n', events: [], comments: [''] },
  {
    name: 'opening comment and retry without a blank line, then an event',
    input: ': ok\nretry: 1000\ndata: a\n\n',
    events: [ev('a')],
    retries: [1000],
    comments: ['ok'],
  },
  {
    name: 'only one space stripped from a comment',
    input: ':  two\n',
    events: [],
    comments: [' two'],
  },
  {
    name: 'comment then event',
    input: ': ping\n\ndata: a\n\n',
    events: [ev('a')],
    comments: ['ping'],
  },
  {
    name: 'comment inside an event',
    input: 'data: a\n: mid\ndata: b\n\n',
    events: [ev('a\nb')],
    comments: ['mid'],
  },
  {
    name: 'comment that looks like a field',
    input: ': data: x\n\n',
    events: [],
    comments: ['data: x'],
  },
  {
    name: 'comment ended by CRLF is one line',
    input: 'data: a\n:\r\ndata: b\n\n',
    events: [ev('a\nb')],
    comments: [''],
  },
  { name: 'unterminated comment not reported', input: ': partial', events: [] },
]

const lineEnds: ParserCase[] = [
  { name: 'CR CR ends events', input: 'data: a\r\rdata: b\r\r', events: [ev('a'), ev('b')] },
  {
    name: 'CRLF CRLF ends events',
    input: 'data: a\r\n\r\ndata: b\r\n\r\n',
    events: [ev('a'), ev('b')],
  },
  { name: 'LF then CRLF', input: 'data: a\n\r\n', events: [ev('a')] },
  { name: 'CRLF then LF', input: 'data: a\r\n\n', events: [ev('a')] },
  { name: 'LF then bare CR at the end', input: 'data: a\n\r', events: [ev('a')] },
  { name: 'CR CR LF: the LF belongs to the second CR', input: 'data: a\r\r\n', events: [ev('a')] },
  { name: 'CR then CRLF blank line', input: 'data: a\rdata: b\r\r\n', events: [ev('a\nb')] },
  { name: 'LF then CR blank line', input: 'data: a\n\rdata: b\n\n', events: [ev('a'), ev('b')] },
  {
    name: 'mixed line ends in one event',
    input: 'data: a\rdata: b\ndata: c\r\n\n',
    events: [ev('a\nb\nc')],
  },
  { name: 'extra blank CRs dispatch nothing', input: 'data: a\n\r\r', events: [ev('a')] },
  { name: 'line ended by CR but no blank line', input: 'data:a\r', events: [] },
  { name: 'final bare CR dispatches', input: 'data: a\r\r', events: [ev('a')] },
  { name: 'leading CRLF blank lines', input: '\r\n\r\ndata: x\r\n\r\n', events: [ev('x')] },
  {
    name: 'CR LF LF: CRLF then blank',
    input: 'data: a\r\n\ndata: b\n\n',
    events: [ev('a'), ev('b')],
  },
  {
    name: 'LF CR LF CR: blank lines between',
    input: 'data: a\n\r\n\rdata: b\r\r',
    events: [ev('a'), ev('b')],
  },
  {
    name: 'id and event with CR',
    input: 'event: x\rid: 7\rdata: a\rdata: b\r\r',
    events: [ev('a\nb', { type: 'x', id: '7' })],
  },
]

const bom: ParserCase[] = [
  { name: 'leading BOM stripped', input: '\uFEFFdata: a\n\n', events: [ev('a')] },
  {
    name: 'WPT format-bom: a later BOM is part of the field name',
    input: '\uFEFFdata:1\n\n\uFEFFdata:2\n\ndata:3\n\n',
    events: [ev('1'), ev('3')],
  },
  {
    name: 'WPT format-bom-2: only one BOM stripped',
    input: '\uFEFF\uFEFFdata:1\n\ndata:2\n\ndata:3\n\n',
    events: [ev('2'), ev('3')],
  },
  { name: 'BOM inside data kept', input: 'data: \uFEFFx\n\n', events: [ev('\uFEFFx')] },
  { name: 'BOM then blank lines', input: '\uFEFF\n\ndata: a\n\n', events: [ev('a')] },
  { name: 'BOM alone', input: '\uFEFF', events: [] },
  {
    name: 'BOM then comment',
    input: '\uFEFF:comment\n\ndata: a\n\n',
    events: [ev('a')],
    comments: ['comment'],
  },
  {
    name: 'BOM then id field',
    input: '\uFEFFid: 1\n\n',
    events: [],
    lastEventId: '1',
  },
  {
    name: 'a truncated BOM is not a BOM',
    input: bytes([0xef, 0xbb], 'data: a\n\ndata: b\n\n'),
    events: [ev('b')],
  },
  {
    name: 'UTF-16 BOM bytes are not stripped',
    input: bytes([0xfe, 0xff], 'data: a\n\ndata: b\n\n'),
    events: [ev('b')],
  },
]

const utf8: ParserCase[] = [
  { name: 'multi-byte characters', input: 'data: é你好🦄\n\n', events: [ev('é你好🦄')] },
  {
    name: 'WPT format-utf-8',
    input: bytes('data:ok', [0xe2, 0x80, 0xa6], '\n\n'),
    events: [ev('ok…')],
  },
  {
    name: 'invalid byte becomes U+FFFD',
    input: bytes('data: a', [0xff], 'b\n\n'),
    events: [ev('a\uFFFDb')],
  },
  {
    name: 'truncated 2-byte sequence before LF',
    input: bytes('data: ', [0xc3], '\n\n'),
    events: [ev('\uFFFD')],
  },
  {
    name: 'truncated 4-byte sequence is one U+FFFD',
    input: bytes('data: ', [0xf0, 0x9f, 0xa6], '\n\n'),
    events: [ev('\uFFFD')],
  },
  {
    name: 'encoded surrogate is three U+FFFD',
    input: bytes('data: ', [0xed, 0xa0, 0x80], '\n\n'),
    events: [ev('\uFFFD\uFFFD\uFFFD')],
  },
  {
    name: 'overlong encoding is two U+FFFD',
    input: bytes('data: ', [0xc0, 0xaf], '\n\n'),
    events: [ev('\uFFFD\uFFFD')],
  },
  {
    name: 'lone continuation byte',
    input: bytes('data: ', [0x80], '\n\n'),
    events: [ev('\uFFFD')],
  },
  {
    name: 'truncated sequence at end of stream',
    input: bytes('data: x\n\n', [0xf0, 0x9f]),
    events: [ev('x')],
  },
  {
    name: 'invalid byte in the type',
    input: bytes('event: ', [0xff], '\ndata: y\n\n'),
    events: [ev('y', { type: '\uFFFD' })],
  },
  {
    name: 'invalid byte in the id',
    input: bytes('id: ', [0xfe], '\ndata: y\n\n'),
    events: [ev('y', { id: '\uFFFD' })],
  },
  {
    name: 'invalid byte in a field name makes it unknown',
    input: bytes('da', [0xff], 'ta: y\n\ndata: z\n\n'),
    events: [ev('z')],
  },
  {
    name: 'CR right after a truncated sequence',
    input: bytes('data: ', [0xe4, 0xbd], '\r\r'),
    events: [ev('\uFFFD')],
  },
  {
    name: 'every UTF-8 length in one event',
    input: 'data: $¢€𐍈\ndata: 🦄é\n\n',
    events: [ev('$¢€𐍈\n🦄é')],
  },
]

// Line-ending variants: the same blocks framed with CR and with CRLF instead of LF.
const lfTemplates: ParserCase[] = [
  { name: 'two events', input: 'data: a\n\ndata: b\n\n', events: [ev('a'), ev('b')] },
  { name: 'multi-line data', input: 'data: a\ndata: b\n\n', events: [ev('a\nb')] },
  {
    name: 'typed event with id',
    input: 'event: x\nid: 3\ndata: a\n\n',
    events: [ev('a', { type: 'x', id: '3' })],
  },
  {
    name: 'id persists',
    input: 'id: 1\ndata: a\n\ndata: b\n\n',
    events: [ev('a', { id: '1' }), ev('b', { id: '1' })],
  },
  { name: 'id-only block', input: 'id: 5\n\n', events: [], lastEventId: '5' },
  { name: 'empty data', input: 'data\n\ndata:\n\n', events: [ev(''), ev('')] },
  { name: 'retry then event', input: 'retry: 10\ndata: a\n\n', events: [ev('a')], retries: [10] },
  { name: 'comment then event', input: ': c\ndata: a\n\n', events: [ev('a')], comments: ['c'] },
  { name: 'unterminated final event', input: 'data: a\n\ndata: b\n', events: [ev('a')] },
  { name: 'BOM then event', input: '\uFEFFdata: a\n\n', events: [ev('a')] },
  {
    name: 'blank lines between events',
    input: 'data: a\n\n\n\ndata: b\n\n',
    events: [ev('a'), ev('b')],
  },
  {
    name: 'event without data then event',
    input: 'event: x\n\ndata: y\n\n',
    events: [ev('y')],
  },
]

const variants: ParserCase[] = lfTemplates.flatMap((c) =>
  (['\r', '\r\n'] as const).map((eol) => ({
    ...c,
    name: `${c.name} (${eol === '\r' ? 'CR' : 'CRLF'})`,
    input: (c.input as string).replaceAll('\n', eol),
  })),
)

export const parserCases: ParserCase[] = [
  ...dataField,
  ...eventField,
  ...idField,
  ...retryField,
  ...comments,
  ...lineEnds,
  ...bom,
  ...utf8,
  ...variants,
]
