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
