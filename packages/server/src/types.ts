/**
 * The SSE writer's public shapes. One `EventWriter` interface serves every sink (Node
 * `ServerResponse`/`Http2ServerResponse`, or a Web `Response`), so the resumable-stream registry and
 * user code never care which runtime they run on. Type-only `node:*` imports are erased at build.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2'

/** What became of one `send`/`comment`: accepted by a live connection, or not (it is closed). */
export type SendOutcome = 'written' | 'closed'

/** Why a connection ended; `signal.reason` carries it and metrics count disconnects by it. */
export type DisconnectReason =
  | 'client-closed'
  | 'slow-client'
  | 'error'
  | 'ended'
  | 'shutdown'
  | 'auth-expired'
  | 'timeout'

/** One SSE event. `id` and `event` must not contain CR, LF or NUL (refused: no field injection). */
export interface SseEvent {
  /** A number is written in decimal (`id: 0` included); `''` resets the client's last event id. */
  readonly id?: string | number | undefined
  readonly event?: string | undefined
  readonly data: string
  /** Reconnection delay hint in ms (the `retry:` field). */
  readonly retry?: number | undefined
}

/** Everything one SSE block can carry; `formatEvent` serialises it. A comment goes first. */
export interface SseFields {
  readonly id?: string | number | undefined
  readonly event?: string | undefined
  /**
   * Omitted means no `data:` line. Without `id`, `event` and `data` the block (comment and `retry`
   * lines only) ends without a blank line, so that no client dispatches it as an empty message.
   */
  readonly data?: string | undefined
  readonly retry?: number | undefined
  readonly comment?: string | undefined
}

/** JSON data of `event: error` (protocol v1). `retryable: true` ends the connection, not the stream. */
export interface ErrorPayload {
  readonly code: string
  readonly message: string
  readonly retryable: boolean
  readonly retryAfterMs?: number | undefined
}

/** Per-connection options. Every field has a safe default; hub options set defaults for all writers. */
export interface EventWriterOptions {
  /** The `retry:` hint in the opening write, in ms. Default 1000. */
  readonly retryMs?: number | undefined
  /** Comment after this much silence, from the hub's one shared timer. Default 15000; 0 disables. */
  readonly keepAliveMs?: number | undefined
  /** A backpressured connection that does not drain in this many ms is closed as `slow-client`. Default 30000. */
  readonly drainTimeoutMs?: number | undefined
  /** Bytes queued while waiting for drain beyond which the client is closed as `slow-client`. Default 1 MiB. */
  readonly highWaterMarkBytes?: number | undefined
  /**
   * Credential expiry (epoch ms); a function is re-read when the lead time arrives, so refreshes
   * count. `Infinity` (or `undefined` from the function) never expires. NaN or negative throws
   * `invalid-argument` here; from the function (or if it throws) it counts as expired and goes to
   * `onError`, because streaming on with a credential in an unknown state is not safe.
   */
  readonly expiresAt?: number | (() => number | undefined) | undefined
  /** How long before `expiresAt` to send `auth-expired` and close. Default 5000. */
  readonly authLeadMs?: number | undefined
  /** Longest connection lifetime; then a retryable `timeout` error ends the connection. Default none. */
  readonly maxDurationMs?: number | undefined
  /** Response status. Default 200. */
  readonly status?: number | undefined
  /** Extra response headers, e.g. `Content-Location` for a resumable stream. */
  readonly headers?: Readonly<Record<string, string>> | undefined
  /**
   * Written as an id-only block (`id: <cursor>`) right after the opening: protocol v1's cursor
   * block, the position this connection starts after. A client stores it as its last event id
   * without dispatching anything, so it can resume even if no event reaches it. Per connection.
   */
  readonly cursor?: string | undefined
  /** Send unexpected exceptions' messages to the client as is. Default false: they are masked. */
  readonly exposeErrors?: boolean | undefined
  /** Sees every error given to `fail` (masked ones included) and every failed `expiresAt` function. */
  readonly onError?: ((error: unknown) => void) | undefined
}

/** Counters of one connection (a plain snapshot). */
export interface StreamMetrics {
  readonly events: number
  readonly bytes: number
  readonly backpressureCount: number
  readonly backpressureMs: number
  readonly drainTimeouts: number
  readonly resumed: boolean
  readonly replayedEvents: number
  readonly openedAt: number
  readonly closeReason?: DisconnectReason | undefined
}

/**
 * Writes SSE to one connection. `send`/`comment` never reject: they resolve `closed` once the
 * connection is gone, and await drain (bounded by `drainTimeoutMs`) under backpressure. Invalid
 * `id`/`event` values throw synchronously (misuse), before anything is queued.
 */
export interface EventWriter {
  /** Queues one event; same-tick sends go out as one write. */
  send(event: SseEvent): Promise<SendOutcome>
  /** Queues a comment (`: text` lines, no blank line: nothing any client dispatches), e.g. a custom heartbeat. */
  comment(text: string): Promise<SendOutcome>
  /** Sends `event: done` (with `data`, default `{}`), then closes with reason `ended`. */
  end(data?: string): Promise<void>
  /** Sends `event: error` with `ErrorPayload` JSON, then closes; unexpected messages are masked. */
  fail(error: unknown): Promise<void>
  /** Closes without a terminal event, e.g. after relaying a logged `done`. Idempotent. */
  close(reason?: DisconnectReason): void
  /** Aborts when the connection ends for any reason; `signal.reason` is the `DisconnectReason`. */
  readonly signal: AbortSignal
  readonly closed: boolean
  /** The request's `Last-Event-ID` header, if any: where a resume starts. */
  readonly lastEventId: string | undefined
  /** This connection's counters so far. */
  metrics(): StreamMetrics
}

/** What the hub counts across all connections (a plain snapshot). */
export interface MetricsSnapshot {
  readonly activeStreams: number
  readonly openedStreams: number
  readonly events: number
  readonly bytes: number
  readonly backpressureCount: number
  readonly backpressureMs: number
  readonly drainTimeouts: number
  readonly disconnects: Readonly<Record<DisconnectReason, number>>
  readonly resumes: number
  readonly replayedEvents: number
  readonly authExpiries: number
}

/** A discrete change the hub reports to `onMetrics` listeners (per-event counts are pull-only). */
export type MetricsChange =
  | { readonly type: 'stream-open' }
  | {
      readonly type: 'stream-close'
      readonly reason: DisconnectReason
      readonly stream: StreamMetrics
    }
  | { readonly type: 'backpressure'; readonly durationMs: number }
  | { readonly type: 'drain-timeout' }
  | { readonly type: 'resume' }
  | { readonly type: 'auth-expired' }

/** How `closeAll` winds the hub down. */
export interface CloseAllOptions {
  /** Human-readable reason in the `shutting-down` error message, e.g. `deploy`. */
  readonly reason?: string | undefined
  /** Each client gets `retry:` = `retryMs` + random(0..retryJitterMs), spreading reconnects. Default 5000. */
  readonly retryJitterMs?: number | undefined
  /** Resolve even if some connections have not closed by then (they are destroyed). Default 10000. */
  readonly deadlineMs?: number | undefined
}

/** Options of a hub: defaults for its writers plus hub-wide limits. */
export interface EventHubOptions extends EventWriterOptions {
  /** Refuse (`stream-limit`) past this many open connections. Default unlimited. */
  readonly maxStreams?: number | undefined
}

/** A Web `Response` whose body is the stream, plus the writer that feeds it. */
export interface WebEventStream {
  readonly response: Response
  readonly writer: EventWriter
}

/** A Node request/response pair, HTTP/1.1 or HTTP/2 compatibility API. */
export type NodeRequest = IncomingMessage | Http2ServerRequest
/** The Node responses the writer writes directly: HTTP/1.1 and HTTP/2 compatibility API. */
export type NodeResponse = ServerResponse | Http2ServerResponse

/**
 * Owns what all connections share: aggregate metrics, the one keepalive timer, and shutdown.
 * `node`/`web` throw `shutting-down` after `closeAll` and `stream-limit` past `maxStreams`.
 */
export interface EventHub {
  /** Opens an SSE response on a Node response (writes headers and the opening bytes at once). */
  node(req: NodeRequest, res: NodeResponse, options?: EventWriterOptions): EventWriter
  /** Opens an SSE `Response` for Fetch runtimes; `request.signal` aborting closes the writer. */
  web(request: Request, options?: EventWriterOptions): WebEventStream
  metrics(): MetricsSnapshot
  /** Subscribes to discrete changes; returns an unsubscribe. */
  onMetrics(listener: (change: MetricsChange) => void): () => void
  /** Refuses new connections, ends every open one with a jittered `retry:`, resolves when all closed. */
  closeAll(options?: CloseAllOptions): Promise<void>
  readonly closing: boolean
}
