import {
  createEventStreamParser,
  type EventStreamParserOptions,
  type ServerSentEvent,
} from './parser'

/**
 * Wraps {@link createEventStreamParser} as a `TransformStream` from body chunks to events, for
 * `response.body.pipeThrough(…)`; an oversized event errors the stream with `event-too-large`.
 */
export function createEventStreamParserStream(
  options: Omit<EventStreamParserOptions, 'onEvent'> = {},
): TransformStream<Uint8Array | string, ServerSentEvent> {
  let output: TransformStreamDefaultController<ServerSentEvent> | undefined
  const parser = createEventStreamParser({ ...options, onEvent: (event) => output?.enqueue(event) })
  return new TransformStream({
    start(controller) {
      output = controller
    },
    transform(chunk) {
      parser.write(chunk)
    },
    flush() {
      parser.end()
    },
  })
}
