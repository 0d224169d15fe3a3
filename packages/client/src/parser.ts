import { UnbrokenClientError } from './errors'

/** One dispatched event, with the fields a native `MessageEvent` from `EventSource` carries. */
export type ServerSentEvent = {
  /** The `event:` field, or `"message"` when the block had none (or an empty one). */
  type: string
  /** The `data:` lines of the block, joined with LF. */
  data: string
  /** The stream's last event ID at dispatch: it persists across events, like `EventSource`'s. */
  lastEventId: string
}

/** Callbacks and limits for {@link createEventStreamParser}. */
export type EventStreamParserOptions = {
  /**
   * Called for every dispatched event, in stream order. Callbacks must not throw: an exception
   * propagates out of `write()` and the rest of that chunk is lost.
   */
  onEvent: (event: ServerSentEvent) => void
  /** Called with the `retry:` value when it is ASCII digits only (the spec ignores anything else). */
  onRetry?: ((ms: number) => void) | undefined
  /** Called for each comment line (`:…`), without the colon and one leading space. */
  onComment?: ((text: string) => void) | undefined
  /**
   * Called when a block with an `id:` field but no data ends: the last event ID moved and no event
   * was dispatched. A resuming reader sees the server's cursor block this way.
   */
  onId?: ((id: string) => void) | undefined
  /**
   * Longest line, or event data plus the line being read, in UTF-16 code units (never more than
   * the UTF-8 bytes received). Default 16 MiB, room for multi-MB LLM events such as base64 images.
   */
  maxEventBytes?: number | undefined
  /** The last event ID to start from; a reconnecting reader passes the previous connection's. */
  lastEventId?: string | undefined
}

/** A push parser for one `text/event-stream` body. */
export type EventStreamParser = {
  /** Feeds the next chunk: bytes (decoded as streaming UTF-8) or text that is already decoded. */
  write(chunk: Uint8Array | string): void
  /** Ends the stream: an unterminated final block is discarded, as `EventSource` does. */
  end(): void
  /** The spec's "last event ID string": updated when a block completes, never mid-block. */
  readonly lastEventId: string
}

// 16 MiB. LLM APIs send single events of several MB (OpenAI's `response.completed` snapshot, a
// base64 image from an image-generation stream), so 1–4 MiB would break real traffic; the cap only
// has to stop a runaway or hostile stream from growing a tab's memory without bound.
const DEFAULT_MAX_EVENT_BYTES = 16 * 1024 * 1024

const LF = 10
const SPACE = 32
const STREAM = { stream: true }
const DIGITS = /^\d+$/

/**
 * Creates a push parser for a Server-Sent Events body that dispatches exactly what a browser's
 * native `EventSource` would (WHATWG HTML §9.2.5–9.2.6), chunk split points never matter, and
 * memory stays bounded by `maxEventBytes` (exceeding it throws `event-too-large`).
 */
export function createEventStreamParser(options: EventStreamParserOptions): EventStreamParser {
  const { onEvent, onRetry, onComment, onId } = options
  const max = options.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES
  if (!(max > 0)) {
    throw new UnbrokenClientError(
      'invalid-argument',
      `maxEventBytes must be a positive number, got ${max}`,
    )
  }
  let lastEventId = options.lastEventId ?? ''
  // `ignoreBOM`: the spec strips exactly one BOM, and text chunks need the same rule, so the
  // parser strips it itself; a default TextDecoder would strip one more (format-bom-2).
  let decoder = new TextDecoder('utf-8', { ignoreBOM: true })
  let atStart = true
  // A CR ended the previous chunk: the line is already processed (no latency), but an LF that
  // starts the next chunk belongs to that CR and must not count as a blank line.
  let skipLF = false
  // The unfinished line, kept as pieces so a long line fed in small chunks stays linear.
  let pending: string[] = []
  let pendingLength = 0
  let data: string | undefined
  let dataLength = 0
  let type = ''
  let idBuffer = lastEventId
  // The block being read has an `id:` field: at its blank line, without data, it calls onId.
  let idField = false
  let failure: UnbrokenClientError | undefined

  const fail = (what: string, size: number): never => {
    failure = new UnbrokenClientError(
      'event-too-large',
      `${what} of ${size} characters exceeds maxEventBytes (${max}): raise maxEventBytes or fix the server's framing (a missing blank line keeps an event open).`,
    )
    // Drop what was buffered: the stream is unusable, and nothing half-parsed may leak.
    pending = []
    data = undefined
    throw failure
  }

  const dispatch = () => {
    // The id is committed at the blank line even when nothing is dispatched (id-only blocks).
    lastEventId = idBuffer
    const hadId = idField
    idField = false
    if (data !== undefined) {
      const event = { type: type || 'message', data, lastEventId }
      data = undefined
      dataLength = 0
      type = ''
      onEvent(event)
    } else {
      type = ''
      if (hadId && onId) onId(lastEventId)
    }
  }

  // One non-empty line, `s.slice(start, end)`, whose first colon is at `colon` (-1 if none).
  const field = (s: string, start: number, colon: number, end: number) => {
    if (colon === start) {
      if (onComment)
        onComment(s.slice(s.charCodeAt(start + 1) === SPACE ? start + 2 : start + 1, end))
      return
    }
    const nameEnd = colon === -1 ? end : colon
    let valueStart = colon === -1 ? end : colon + 1
    // The character at `end` is a line end (or past the string), never a space.
    if (s.charCodeAt(valueStart) === SPACE) valueStart++
    const nameLength = nameEnd - start
    if (nameLength === 4 && s.startsWith('data', start)) {
      const value = s.slice(valueStart, end)
      dataLength += value.length + 1
      if (dataLength > max) fail('Event data', dataLength)
      data = data === undefined ? value : `${data}\n${value}`
    } else if (nameLength === 5 && s.startsWith('event', start)) {
      type = s.slice(valueStart, end)
    } else if (nameLength === 2 && s.startsWith('id', start)) {
      const value = s.slice(valueStart, end)
      if (value.indexOf('\0') === -1) {
        idBuffer = value
        idField = true
      }
    } else if (nameLength === 5 && s.startsWith('retry', start)) {
      const value = s.slice(valueStart, end)
      if (onRetry && DIGITS.test(value)) onRetry(Number.parseInt(value, 10))
    }
  }

  const parse = (text: string) => {
    let pos = 0
    const length = text.length
    if (skipLF && length > 0) {
      skipLF = false
      if (text.charCodeAt(0) === LF) pos = 1
    }
    // Next LF, CR and colon at or after `pos`; -2 means "not searched yet". Once a search
    // returns -1 it never runs again for this text, so every scan is linear.
    let lf = -2
    let cr = -2
    let colon = -2
    for (;;) {
      if (lf !== -1 && lf < pos) lf = text.indexOf('\n', pos)
      if (cr !== -1 && cr < pos) cr = text.indexOf('\r', pos)
      let end: number
      if (lf === -1) {
        if (cr === -1) break
        end = cr
      } else end = cr === -1 || lf < cr ? lf : cr
      if (end - pos > max) fail('A line', end - pos)
      if (pendingLength > 0) {
        pending.push(text.slice(pos, end))
        // One join copies the line once; `join + slice` would build a rope and copy twice.
        const line = pending.join('')
        pending = []
        pendingLength = 0
        if (line.length > max) fail('A line', line.length)
        field(line, 0, line.indexOf(':'), line.length)
      } else if (end === pos) {
        dispatch()
      } else if (
        // Hot path: a `data:` line, tested by char codes so no name string is made.
        text.charCodeAt(pos) === 100 &&
        text.charCodeAt(pos + 1) === 97 &&
        text.charCodeAt(pos + 2) === 116 &&
        text.charCodeAt(pos + 3) === 97 &&
        text.charCodeAt(pos + 4) === 58
      ) {
        const valueStart = text.charCodeAt(pos + 5) === SPACE ? pos + 6 : pos + 5
        const value = text.slice(valueStart, end)
        if (data === undefined && end === lf && text.charCodeAt(end + 1) === LF) {
          // `data: …` LF LF, the shape of nearly every LLM token event: dispatch it here.
          lastEventId = idBuffer
          idField = false
          const event = { type: type || 'message', data: value, lastEventId }
          type = ''
          pos = end + 2
          onEvent(event)
          continue
        }
        dataLength += end - valueStart + 1
        if (dataLength > max) fail('Event data', dataLength)
        data = data === undefined ? value : `${data}\n${value}`
      } else if (
        text.charCodeAt(pos) === 105 &&
        text.charCodeAt(pos + 1) === 100 &&
        text.charCodeAt(pos + 2) === 58
      ) {
        // `id:` starts nearly every event from a resumable server.
        const value = text.slice(text.charCodeAt(pos + 3) === SPACE ? pos + 4 : pos + 3, end)
        if (value.indexOf('\0') === -1) {
          idBuffer = value
          idField = true
        }
      } else {
        if (colon !== -1 && colon < pos) colon = text.indexOf(':', pos)
        field(text, pos, colon !== -1 && colon < end ? colon : -1, end)
      }
      if (end === cr) {
        // CR CR (or CR then EOF) must dispatch now, not wait for a possible LF.
        if (end + 1 === length) skipLF = true
        else if (text.charCodeAt(end + 1) === LF) end++
      }
      pos = end + 1
    }
    if (pos < length) {
      pending.push(pos === 0 ? text : text.slice(pos))
      pendingLength += length - pos
      if (pendingLength + dataLength > max) fail('The pending event', pendingLength + dataLength)
    }
  }

  const write = (chunk: Uint8Array | string) => {
    if (failure) throw failure
    let text = typeof chunk === 'string' ? chunk : decoder.decode(chunk, STREAM)
    if (atStart && text.length > 0) {
      atStart = false
      // Exactly one leading U+FEFF is the BOM (a split BOM arrives whole from the decoder).
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1)
    }
    parse(text)
  }

  return {
    write,
    end() {
      if (failure) throw failure
      // Flushing turns a truncated UTF-8 sequence into U+FFFD, exactly as a browser does.
      write(decoder.decode())
      // An unterminated final block is discarded, including its id (WPT
      // format-data-before-final-empty-line); the parser is then ready for a new stream.
      decoder = new TextDecoder('utf-8', { ignoreBOM: true })
      atStart = true
      skipLF = false
      pending = []
      pendingLength = 0
      data = undefined
      dataLength = 0
      type = ''
      idBuffer = lastEventId
      idField = false
    },
    get lastEventId() {
      return lastEventId
    },
  }
}
