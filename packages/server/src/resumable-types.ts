/**
 * The resumable-stream registry's public shapes, apart from its implementation in `resumable.ts`.
 */
import type { EventLog } from './log'
import type { StreamRequest } from './resumable-http'
import type { Producer } from './resumable-producer'
import type { EventHub, NodeRequest, NodeResponse } from './types'

/** What a caller wants to do to a stream; `authorize` decides per action. */
export type StreamAction = 'create' | 'read' | 'cancel'

/** Everything `authorize` may base its decision on. */
export interface AuthorizeContext {
  readonly action: StreamAction
  /** Who is calling, from `principal`; `undefined` is anonymous. */
  readonly principal: string | undefined
  /** Who created the stream (`undefined` on `create`, or for an anonymous creator). */
  readonly owner: string | undefined
  readonly streamId: string
  readonly request: StreamRequest | undefined
}

/** Options of `createResumableStreams`. Every field has a safe default. */
export interface ResumableStreamsOptions {
  /** Where events live. Default: a new `createMemoryEventLog()`, closed by `close()`. */
  readonly log?: EventLog | undefined
  /** Writes the SSE connections. Default: a new `createEventHub()`, closed by `close()`. */
  readonly hub?: EventHub | undefined
  /**
   * Stream URLs are `${basePath}/${id}`. Default `/streams`. Under a mount (`app.use('/api', …)`, a
   * Fastify prefix, `RouteOptions.mountPath`) give it with or without the mount: `/streams` and
   * `/api/streams` both serve `/api/streams/<id>`.
   */
  readonly basePath?: string | undefined
  /** The `retry:` hint (ms) of this registry's connections, the base of the client's backoff. Default: the hub's (1000). */
  readonly retryMs?: number | undefined
  /** Who is calling (e.g. from a verified token); `undefined` means anonymous. */
  readonly principal?:
    | ((request: StreamRequest) => string | undefined | Promise<string | undefined>)
    | undefined
  /**
   * This connection's credential expiry (epoch ms), e.g. from the token `principal` verified: the
   * writer sends `auth-expired` the hub's `authLeadMs` before it and the stream stays resumable.
   * Asked on every POST and GET, after `authorize`. `undefined` keeps the hub's `expiresAt`;
   * `Infinity` never expires. NaN or negative is a bug: 500, reported to `onError`.
   */
  readonly expiresAt?:
    | ((
        request: StreamRequest,
        principal: string | undefined,
      ) => number | undefined | Promise<number | undefined>)
    | undefined
  /** Allows an action. Default: anyone may create; only the creator may read or cancel. */
  readonly authorize?: ((context: AuthorizeContext) => boolean | Promise<boolean>) | undefined
  /** Producers running in this process at once; more are refused with 429. Default 1000. */
  readonly maxConcurrentStreams?: number | undefined
  /**
   * Of those, producers one principal may run at once (429 past it), so that one caller cannot
   * take the whole server. Default 10; anonymous streams count only against the total.
   */
  readonly maxStreamsPerPrincipal?: number | undefined
  /**
   * The base of the `Retry-After` of a 429 or 503, in ms: each answer advises a random delay
   * between one and two of it, so refused clients come back spread out. Default 1000.
   */
  readonly retryAfterMs?: number | undefined
  /**
   * Stops a stream produced here (final `producer-lost`, the producer's signal aborts with
   * `abandoned`) once no connection of this process has read it for this long. Default: never.
   * A client that left before its POST's response began never starts its producer at all, unless
   * the POST carried an `Idempotency-Key` (the same POST sent again attaches to the generation).
   * Readers on other instances sharing the log are not seen: set it only where resumes come back
   * to the producing instance (the memory log, sticky sessions).
   */
  readonly abandonAfterMs?: number | undefined
  /**
   * Enables CORS for this origin (or `*`): exposes `Content-Location`, `Retry-After` and
   * `Unbroken-Replay-Through`; preflights allow `Last-Event-ID`, `Idempotency-Key`, `Content-Type`
   * and `Authorization`.
   */
  readonly allowOrigin?: string | undefined
  /** More request headers a cross-origin client may send (e.g. `X-Request-Id`). */
  readonly allowHeaders?: readonly string[] | undefined
  /** Put producer exceptions' own messages in `error` events. Default false (masked). */
  readonly exposeErrors?: boolean | undefined
  /**
   * Sees producer exceptions and log failures, including masked ones, with the stream they hit.
   * Default: each is logged once with `console.error`, whatever `NODE_ENV` says.
   */
  readonly onError?: ((error: unknown, streamId: string | undefined) => void) | undefined
}

/** How one request reached the registry, for routers that do not say so in the request. */
export interface RouteOptions {
  /**
   * The prefix a router mounted the registry under (a Fastify plugin `prefix`, a Hono sub-app's
   * path), when the request's own URL does not show it. `basePath` is then read relative to it too.
   */
  readonly mountPath?: string | undefined
}

/** Where a started stream can be read, resumed and cancelled. */
export interface StartedStream {
  readonly id: string
  /** `${basePath}/${id}`: the `Content-Location` to GET (resume) or DELETE (cancel). */
  readonly url: string
}

/** How `drain` winds the registry down. */
export interface DrainOptions {
  /** How long running producers may take to finish, in ms. Default 10 000. */
  readonly deadlineMs?: number | undefined
  /** Each client reconnects after its `retryMs` plus random(0..retryJitterMs). Default 5000. */
  readonly retryJitterMs?: number | undefined
}

/** Options of `ResumableStreams.start`. */
export interface StartOptions<R> {
  /** The owner recorded for `authorize`. */
  readonly principal?: string | undefined
  /** Extra metadata stored with the stream (`principal` is reserved). */
  readonly meta?: Readonly<Record<string, string>> | undefined
  /** Handed to the producer as its second argument. */
  readonly request?: R | undefined
}

/** A registry of producer-backed streams and the HTTP endpoints that attach to them. */
export interface ResumableStreams {
  /** Runs `producer` into a new stream without a connection; the caller hands out the URL. */
  start(producer: Producer<undefined>, options?: StartOptions<undefined>): Promise<StartedStream>
  /** The same for a producer that takes a request: `options.request` is then required. */
  start<R>(
    producer: Producer<R>,
    options: StartOptions<R> & { readonly request: R },
  ): Promise<StartedStream>
  /**
   * Node handler: POST starts `producer` (or, with a known `Idempotency-Key`, attaches to its
   * stream), GET resumes, DELETE cancels, OPTIONS answers CORS. Reads Express/Connect's
   * `originalUrl`, so a mounted router keeps its prefix in `Content-Location`.
   */
  handle(
    req: NodeRequest,
    res: NodeResponse,
    producer?: Producer<NodeRequest>,
    options?: RouteOptions,
  ): Promise<void>
  /** The same endpoints for Fetch runtimes (Hono, Next.js, Bun, Deno). */
  fetch(request: Request, producer?: Producer<Request>, options?: RouteOptions): Promise<Response>
  /** Cancels a stream from any instance sharing the log; it ends with `done` `{"reason":"cancelled"}`. */
  cancel(streamId: string): Promise<void>
  /** Producers running in this process. */
  readonly active: number
  /** Where stream URLs live, as given (normalized); the framework helpers route by it. */
  readonly basePath: string
  /**
   * The graceful shutdown (protocol v1 §10): refuses new streams (503 `shutting-down` with
   * `Retry-After`), tells connected clients to reconnect elsewhere (a jittered `retry:`, then the
   * connection closes without a terminal event), lets running producers finish into the log until
   * `deadlineMs`, then stops what remains (`producer-lost`) and closes the hub and log it created.
   * Meanwhile it still serves resumes of streams produced here or already finished. Idempotent.
   */
  drain(options?: DrainOptions): Promise<void>
  /** `drain({ deadlineMs: 0 })`: stops running producers at once. */
  close(): Promise<void>
}
