import { UnbrokenServerError } from './errors'
import type { SseFields } from './types'

// WHATWG HTML "server-sent events" §9.2.6: a line ends at CRLF, lone CR or lone LF, so all three must
// start a new `data:`/comment line, and `id`/`event` must contain none of them. NUL is refused too:
// the spec ignores an `id` containing NUL, which would silently break resume.
const LINE_BREAK = /\r\n|\r|\n/
const FORBIDDEN_IN_FIELD = /[\r\n\0]/

/**
 * Serialises one SSE block: comment lines, `retry`, `event`, `data` lines, `id`, blank line. A block
 * of only comment and `retry` lines gets no blank line: it has nothing to dispatch, and some clients
 * (`@microsoft/fetch-event-source`) dispatch every blank line as a message, even an empty one.
 * Throws `UnbrokenServerError` (`invalid-argument`) instead of writing a block a
 * client would parse differently from what was meant.
 */
export function formatEvent(fields: SseFields): string {
  const { data, id } = fields
  // The usual block, one `data` line and an id or none, in one template: a third fewer string
  // joins than the general path below, each a rope node to flatten when the batch is encoded.
  if (
    typeof data === 'string' &&
    data !== '' &&
    fields.event === undefined &&
    fields.comment === undefined &&
    fields.retry === undefined &&
    !data.includes('\n') &&
    !data.includes('\r')
  ) {
    if (id === undefined) return `data: ${data}\n\n`
    if (
      typeof id === 'number' ||
      (typeof id === 'string' && id !== '' && !FORBIDDEN_IN_FIELD.test(id))
    )
      return `data: ${data}\nid: ${id}\n\n`
  }
  let out = ''
  if (fields.comment !== undefined) out = formatLines(':', String(fields.comment))
  if (fields.retry !== undefined) {
    const retry = fields.retry
    // Clients ignore a `retry:` that is not all ASCII digits, so anything else is a caller bug.
    if (!Number.isSafeInteger(retry) || retry < 0) {
      throw new UnbrokenServerError(
        'invalid-argument',
        `retry must be a non-negative integer, got ${retry}`,
      )
    }
    out += `retry: ${retry}\n`
  }
  if (fields.event !== undefined) out += formatField('event', fields.event)
  if (fields.data !== undefined) {
    if (typeof fields.data !== 'string') {
      throw new UnbrokenServerError(
        'invalid-argument',
        `data must be a string (serialise it first, e.g. JSON.stringify), got ${typeof fields.data}`,
      )
    }
    out += formatLines('data:', fields.data)
  }
  // The id goes last (WHATWG §9.2.6 allows any order). Spec parsers commit it at the blank line
  // anyway, but `@microsoft/fetch-event-source` takes it as it reads the line: a cut after an early
  // `id:` made it resume after an event it never dispatched. Last, only a cut between this line and
  // the blank line loses that event (docs/protocol.md §11).
  if (fields.id !== undefined) out += formatField('id', fields.id)
  // Without id, event or data the blank line would change nothing for a WHATWG parser: comments
  // are ignored and `retry:` is applied as it is read, so no buffer carries into the next block.
  // With an `id` or `event` it is needed: it commits the id and resets the event type.
  if (fields.id === undefined && fields.event === undefined && fields.data === undefined) return out
  return `${out}\n`
}

/**
 * Throws `invalid-argument` unless `data` is a string and `event` (if any) a string free of CR, LF
 * and NUL: what every `EventLog.append` refuses before storing anything, so that no stored event
 * can fail later when it is formatted for a reader.
 */
export function assertEventInput(input: {
  readonly event?: unknown
  readonly data: unknown
}): void {
  if (input === null || typeof input !== 'object' || typeof input.data !== 'string') {
    throw new UnbrokenServerError(
      'invalid-argument',
      'data must be a string (serialise it first, e.g. JSON.stringify).',
    )
  }
  const { event } = input
  if (event !== undefined && (typeof event !== 'string' || FORBIDDEN_IN_FIELD.test(event))) {
    throw new UnbrokenServerError(
      'invalid-argument',
      'event must be a string without CR, LF or NUL (they would inject SSE fields).',
    )
  }
}

function formatField(name: 'id' | 'event', value: string | number): string {
  // A number's decimal form never holds CR, LF or NUL: the usual numeric id skips the scan.
  if (typeof value === 'number') return `${name}: ${value}\n`
  if (typeof value !== 'string' || FORBIDDEN_IN_FIELD.test(value)) {
    throw new UnbrokenServerError(
      'invalid-argument',
      `${name} must be a string without CR, LF or NUL (they would inject SSE fields): ${JSON.stringify(value)}`,
    )
  }
  return value === '' ? `${name}:\n` : `${name}: ${value}\n`
}

// One line per CR/LF/CRLF-separated piece. The space after the colon is written so that a value
// starting with a space survives (the parser strips exactly one); an empty piece is the bare prefix.
function formatLines(prefix: string, text: string): string {
  let out = ''
  for (const line of text.split(LINE_BREAK))
    out += line === '' ? `${prefix}\n` : `${prefix} ${line}\n`
  return out
}
