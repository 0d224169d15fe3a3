export type { ClientErrorCode, ClientErrorDetails } from './errors'
export { UnbrokenClientError } from './errors'
export type { EventStreamParser, EventStreamParserOptions, ServerSentEvent } from './parser'
export { createEventStreamParser } from './parser'
export { createIdempotencyKey } from './request'
export { createEventStream } from './stream'
export type {
  AuthContext,
  BackoffOptions,
  CloseInfo,
  EventStream,
  EventStreamCloseReason,
  EventStreamOptions,
  EventStreamSnapshot,
  EventStreamStatus,
  ReconnectInfo,
  RequestContext,
  RetryContext,
} from './types'
