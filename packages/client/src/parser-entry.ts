// The `@unbroken/client/parser` entry: the parser alone (≤ 1.5 KB) for code that brings its own
// transport. It lives apart from parser.ts so that parser-stream.ts, which wraps the parser, does
// not import the file that re-exports it.
export type { ClientErrorCode, ClientErrorDetails } from './errors'
export { UnbrokenClientError } from './errors'
export type { EventStreamParser, EventStreamParserOptions, ServerSentEvent } from './parser'
export { createEventStreamParser } from './parser'
export { createEventStreamParserStream } from './parser-stream'
