/**
 * What tests read of an SSE stream: the events a WHATWG parser dispatches (blocks with data), each
 * with the fields its own block carried. `id` is the block's `id:` (not the persisted last event
 * id), `event` its non-empty `event:`; an id-only block such as protocol v1's cursor dispatches
 * nothing, as in a browser. Independent of `@unbroken/client`, whose parser is under test.
 */
export interface SseEvent {
  readonly id?: string
  readonly event?: string
  readonly data: string
}

/** Parses SSE text (LF, CRLF or CR line ends) into the events it dispatches. */
export function parseSse(text: string): SseEvent[] {
  const blocks = createBlockReader()
  const events: SseEvent[] = []
  for (const line of text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/)) {
    const event = blocks.line(line)
    if (event) events.push(event)
  }
  return events
}

/** Reads events from a fetch `Response` body; also an async iterable (breaking out cancels). */
export interface SseReader extends AsyncIterable<SseEvent> {
  /** The next event, or `undefined` once the body ended. */
  next(): Promise<SseEvent | undefined>
  /** Reads `n` events; rejects if the body ends first. */
  take(n: number): Promise<SseEvent[]>
  /** Reads until the server ends the body. */
  rest(): Promise<SseEvent[]>
  /** Cancels the body, releasing the connection. */
  cancel(): Promise<void>
}

/** Reads the SSE body of `response` as it arrives (any chunking, any line ends). */
export function readSse(response: Response): SseReader {
  if (!response.body) throw new Error('the response has no body')
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader()
  const blocks = createBlockReader()
  const ready: SseEvent[] = []
  let buffer = ''
  let ended = false
  const next = async (): Promise<SseEvent | undefined> => {
    while (ready.length === 0 && !ended) {
      const chunk = await reader.read()
      if (chunk.done) ended = true
      else buffer += chunk.value
      // A trailing CR may be the first half of a CRLF: keep it until more text (or the end) comes.
      const lines = buffer.split(/\r\n|\r(?!$)|\n/)
      buffer = ended ? '' : (lines.pop() ?? '')
      for (const line of lines) {
        const event = blocks.line(line)
        if (event) ready.push(event)
      }
    }
    return ready.shift()
  }
  const take = async (n: number) => {
    const events: SseEvent[] = []
    while (events.length < n) {
      const event = await next()
      if (!event) throw new Error(`stream ended after ${events.length} of ${n} events`)
      events.push(event)
    }
    return events
  }
  const rest = async () => {
    const events: SseEvent[] = []
    for (let event = await next(); event; event = await next()) events.push(event)
    return events
  }
  const cancel = () => reader.cancel()
  return {
    next,
    take,
    rest,
    cancel,
    async *[Symbol.asyncIterator]() {
      for (let event = await next(); event; event = await next()) {
        let resumed = false
        try {
          yield event
          resumed = true
        } finally {
          // The consumer stopped here (`break`, `return`): release the connection.
          if (!resumed) await cancel()
        }
      }
    },
  }
}

/** Collects one block's fields line by line and returns the event a blank line dispatches. */
function createBlockReader() {
  let id: string | undefined
  let event = ''
  let data: string[] | undefined
  return {
    line(line: string): SseEvent | undefined {
      if (line === '') {
        const dispatched =
          data === undefined
            ? undefined
            : {
                ...(id === undefined ? {} : { id }),
                ...(event === '' ? {} : { event }),
                data: data.join('\n'),
              }
        id = undefined
        event = ''
        data = undefined
        return dispatched
      }
      if (line.startsWith(':')) return undefined
      const colon = line.indexOf(':')
      const name = colon === -1 ? line : line.slice(0, colon)
      const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '')
      if (name === 'data') {
        data ??= []
        data.push(value)
      }
      if (name === 'event') event = value
      // WHATWG: an id containing NUL is ignored.
      if (name === 'id' && !value.includes('\0')) id = value
      return undefined
    },
  }
}
