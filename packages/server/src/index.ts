/** Creates a hub: one per server process, owning shared keepalive, metrics and graceful shutdown. */

/** Why a server operation failed. */
export type { ServerErrorCode } from './errors'
/** The package's one error class; branch on `code`. */
export { UnbrokenServerError } from './errors'
/** Options of `formatErrorData` / `createErrorPayload`. */
export type { FormatErrorOptions } from './format'
/** Serialises one SSE block spec-exactly; refuses CR/LF/NUL in `id`/`event` (no field injection). */
/** The JSON data of an `event: error`, with unexpected messages masked; e.g. to append to a log. */
/** The `ErrorPayload` object for an error (what `fail` sends), masking unexpected messages. */
export { createErrorPayload, formatErrorData, formatEvent } from './format'
export { createEventHub } from './hub'
/** The event-log interface and its shapes, implemented in memory here and by `@unbroken/redis`. */
export type {
  EventInput,
  EventLog,
  EventLogErrorCode,
  EventLogReadOptions,
  LoggedEvent,
  StreamInfo,
  StreamStatus,
} from './log'
// Event log and resumable streams
/** Options of the in-memory event log: per-stream count/byte caps, TTL after completion, max age. */
export type { MemoryEventLogOptions } from './memory-log'
/** The default `EventLog`: bounded, per-process; replay then live tail without gap or duplicate. */
export { createMemoryEventLog } from './memory-log'
/** Runs producers detached from connections; POST starts, GET resumes after Last-Event-ID, DELETE cancels. */
/** An unguessable stream id: 128 random bits as base64url (`randomUUID` has only 122). */
export { createResumableStreams, createStreamId } from './resumable'
/** What the registry's `principal`/`authorize` hooks see of a request, on Node and Fetch alike. */
export type { StreamRequest } from './resumable-http'
/** The producer function, the stream handle it writes through, and why its signal aborted. */
export type { Producer, ProducerStopReason, ProducerStream } from './resumable-producer'
/** Options, handles and hook shapes of the resumable-stream registry. */
export type {
  AuthorizeContext,
  ResumableStreams,
  ResumableStreamsOptions,
  StartedStream,
  StartOptions,
  StreamAction,
} from './resumable-types'
/** The writer's and hub's public shapes. */
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
