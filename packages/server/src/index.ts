// The public surface of @unbroken/server. Each export's TSDoc sits on its declaration; the
// export list is snapshotted in exports.test.ts so that any change to it shows in review.

// Framing and errors
export type { FormatErrorOptions, ServerErrorCode, ServerErrorOptions } from './errors'
export { createErrorPayload, formatErrorData, UnbrokenServerError } from './errors'
export { assertEventInput, formatEvent } from './format'
// The writer and its hub (keepalive, metrics, shutdown)
export { createEventHub } from './hub'
// Event log and resumable streams
export type {
  EventInput,
  EventLog,
  EventLogErrorCode,
  EventLogReadOptions,
  LoggedEvent,
  StreamInfo,
  StreamStatus,
} from './log'
export type { MemoryEventLogOptions } from './memory-log'
export { createMemoryEventLog } from './memory-log'
export { createResumableStreams, createStreamId } from './resumable'
export type { StreamRequest } from './resumable-http'
export type { Producer, ProducerStopReason, ProducerStream } from './resumable-producer'
export type {
  AuthorizeContext,
  DrainOptions,
  ResumableStreams,
  ResumableStreamsOptions,
  RouteOptions,
  StartedStream,
  StartOptions,
  StreamAction,
} from './resumable-types'
export { getSharedResumableStreams } from './shared-registry'
export type {
  CloseAllOptions,
  DisconnectReason,
  ErrorPayload,
  EventHub,
  EventHubOptions,
  EventWriter,
  EventWriterOptions,
  MetricsChange,
  MetricsSnapshot,
  NodeRequest,
  NodeResponse,
  SendOutcome,
  SseEvent,
  SseFields,
  StreamMetrics,
  WebEventStream,
} from './types'
