import { createErrorPayload, statusOf, UnbrokenServerError } from './errors'
import { createEventHub } from './hub'
import { decodeLastEventId, encodeIdHeader } from './last-event-id'
import { createMemoryEventLog } from './memory-log'
import { createAbandonWatch } from './resumable-abandon'
import { createStreamAccess, OWNER_KEY } from './resumable-access'
import { createAdmission, type Release } from './resumable-admission'
import { type Attachment, attachAfter } from './resumable-attach'
import { createShutdown } from './resumable-drain'
import {
  type Exchange,
  nodeExchange,
  nodeReply,
  type Reply,
  replyError,
  type WebExchange,
  webExchange,
} from './resumable-http'
import { encodeBase64Url, idempotentStreamId } from './resumable-idempotency'
import { locateStream, normalizePath, outsideBasePath, unknownStreamAt } from './resumable-paths'
import { createProducerRunner, type Producer } from './resumable-producer'
import { type RelayInput, relay } from './resumable-relay'
import type {
  ResumableStreams,
  ResumableStreamsOptions,
  RouteOptions,
  StartedStream,
  StartOptions,
} from './resumable-types'
import { delay, positive } from './settings'
import type { EventWriter } from './types'
import { StreamWriter } from './writer'

const ID_PATTERN = /^[A-Za-z0-9_-]{22,64}$/

/** 16 random bytes (128 bits; `randomUUID` has only 122) as base64url: an unguessable stream id. */
export function createStreamId(): string {
  return encodeBase64Url(crypto.getRandomValues(new Uint8Array(16)))
}

/**
 * Resumable streams: a producer (an LLM call) runs detached from any connection and writes into
 * the event log; connections attach, replay after `Last-Event-ID`, and tail live. A dropped
 * connection is not a cancel: only `DELETE`, `cancel()` or shutdown stop the producer.
 */
export function createResumableStreams(options: ResumableStreamsOptions = {}): ResumableStreams {
  const log = options.log ?? createMemoryEventLog()
  const hub = options.hub ?? createEventHub()
  const basePath = normalizePath('basePath', options.basePath ?? '/streams')
  const access = createStreamAccess(options)
  const admission = createAdmission({
    total: positive('maxConcurrentStreams', options.maxConcurrentStreams ?? 1000),
    perPrincipal: positive('maxStreamsPerPrincipal', options.maxStreamsPerPrincipal ?? 10),
  })
  const retryAfterMs = delay('retryAfterMs', options.retryAfterMs ?? 1000)
  const abandonAfterMs =
    options.abandonAfterMs === undefined
      ? undefined
      : delay('abandonAfterMs', options.abandonAfterMs)
  // Without an `onError`, failures still reach the server's log: a producer that throws must
  // never be silent, in production least of all.
  const onError = options.onError ?? logToConsole
  const report = (error: unknown, streamId: string | undefined) => {
    try {
      onError(error, streamId)
    } catch {
      // A throwing logger must not cost a request its answer or a stream its end.
    }
  }
  const runner = createProducerRunner({ log, exposeErrors: options.exposeErrors, onError: report })
  const watch = createAbandonWatch(abandonAfterMs, (streamId) => runner.abandon(streamId))
  const shutdown = createShutdown({
    runner,
    ownHub: options.hub ? undefined : hub,
    ownLog: options.log ? undefined : log,
  })

  const allowHeaders = [
    'Last-Event-ID',
    'Idempotency-Key',
    'Content-Type',
    'Authorization',
    ...(options.allowHeaders ?? []),
  ].join(', ')
  const cors: Record<string, string> = options.allowOrigin
    ? {
        'Access-Control-Allow-Origin': options.allowOrigin,
        'Access-Control-Expose-Headers': 'Content-Location, Retry-After, Unbroken-Replay-Through',
        ...(options.allowOrigin === '*' ? {} : { Vary: 'Origin' }),
      }
    : {}

  const answer = (reply: Reply, error: UnbrokenServerError, status?: number) => {
    const payload = createErrorPayload(error)
    // Jittered between one and two `retryAfterMs`: refused clients come back spread out, not in
    // one wave that the same full server refuses again.
    const advised =
      payload.retryable && payload.retryAfterMs === undefined
        ? {
            ...payload,
            retryAfterMs: retryAfterMs + Math.floor(Math.random() * (retryAfterMs + 1)),
          }
        : payload
    replyError(reply, advised, cors, status)
  }

  /** Answers `error` before any event; server-side trouble (5xx) also goes to `onError`. */
  const failWith = (reply: Reply, error: unknown, streamId: string | undefined) => {
    if (UnbrokenServerError.isInstance(error)) {
      // A 5xx is server-side trouble worth a log line, except this server's own shutdown.
      if (statusOf(error.code) >= 500 && error.code !== 'shutting-down') report(error, streamId)
      answer(reply, error)
      return
    }
    // An unexpected exception (e.g. from a `principal` hook): report it, answer without its text.
    report(error, streamId)
    answer(reply, internalError())
  }

  /**
   * Admits and creates a stream (its producer is not running yet); throws why it cannot. Its
   * place counts from here, so that concurrent POSTs awaiting `log.create` cannot overshoot a limit.
   */
  const create = async (
    principal: string | undefined,
    exchange: Exchange | undefined,
    meta?: Readonly<Record<string, string>>,
    id = createStreamId(),
    base = basePath,
  ): Promise<Admitted> => {
    if (shutdown.draining || hub.closing) throw shuttingDown()
    await access.authorize({
      action: 'create',
      principal,
      owner: undefined,
      streamId: id,
      request: exchange,
    })
    const release = admission.admit(principal)
    try {
      await log.create(
        id,
        principal === undefined ? { ...meta } : { ...meta, [OWNER_KEY]: principal },
      )
    } catch (error) {
      release()
      throw error
    }
    return { id, url: `${base}/${id}`, release }
  }

  const run = <R>(started: Admitted, producer: Producer<R>, request: R) => {
    watch.started(started.id)
    void runner.run(started.id, producer, request).then(() => {
      watch.ended(started.id)
      started.release()
    })
  }

  /** A created stream nobody will learn of: it gives its place back and ends at once. */
  const drop = (started: Admitted) => {
    started.release()
    void log.complete(started.id).catch(() => {})
  }

  /** Opens the SSE response of one connection to the stream at `url`, starting after `cursor`. */
  const open = (
    exchange: Exchange,
    url: string,
    cursor: string,
    expiresAt: number | undefined,
    replayThrough?: string,
  ): EventWriter => {
    const headers: Record<string, string> = { ...cors, 'Content-Location': url }
    // Protocol v1 §5: the client counts events up to this id as replayed.
    if (replayThrough !== undefined) {
      headers['Unbroken-Replay-Through'] = encodeIdHeader(replayThrough)
    }
    const writer = exchange.open({ headers, expiresAt, cursor, retryMs: options.retryMs })
    shutdown.track(writer)
    return writer
  }

  const attach = (input: RelayInput, streamId: string) => {
    void relay(input).catch((error: unknown) => report(error, streamId))
  }

  const post = async <R>(exchange: Exchange, producer: Producer<R>, request: R, base: string) => {
    const key = exchange.header('idempotency-key')
    let started: Admitted
    let expiresAt: number | undefined
    try {
      const principal = await access.principalOf(exchange)
      const id = key === undefined ? undefined : await idempotentStreamId(principal, key)
      // A repeat of a POST whose stream the log still knows: attach to it, as a GET would.
      if (id !== undefined && (await log.info(id))) return get(exchange, id, base)
      // Before the stream exists, so that a failing hook leaves nothing behind.
      expiresAt = await access.expiryOf(exchange, principal)
      try {
        started = await create(principal, exchange, undefined, id, base)
      } catch (error) {
        // Lost a race against the same POST on this or another instance.
        if (
          id !== undefined &&
          UnbrokenServerError.isInstance(error) &&
          error.code === 'stream-exists'
        ) {
          return get(exchange, id, base)
        }
        throw error
      }
    } catch (error) {
      failWith(exchange.reply, error, undefined)
      return
    }
    // Nobody learnt the URL of a stream whose response never began. Without a key nobody can find
    // it again: it ends at once, and its producer never starts. With a key, the same POST sent
    // again (by the client, or by a load balancer that gave up waiting for this response) derives
    // this stream's id and attaches to it, so the generation runs for that retry.
    const unanswered = () => (key === undefined ? drop(started) : run(started, producer, request))
    let writer: EventWriter
    try {
      // `drain()` may have begun while the stream was being created; no new stream starts then.
      if (shutdown.draining) throw shuttingDown()
      writer = open(exchange, started.url, log.startId, expiresAt)
    } catch (error) {
      unanswered()
      failWith(exchange.reply, error, started.id)
      return
    }
    if (writer.signal.reason === 'client-closed') {
      unanswered()
      return
    }
    run(started, producer, request)
    watch.attached(started.id, writer)
    const events = log.read(started.id, { signal: writer.signal })[Symbol.asyncIterator]()
    attach({ events, writer }, started.id)
  }

  const findStream = async (exchange: Exchange, id: string) => {
    const info = await log.info(id)
    if (!info) throw unknownStreamAt(exchange.url.pathname)
    return info
  }

  const get = async (exchange: Exchange, id: string, base: string) => {
    // The query form lets a cross-origin client skip the preflight a custom header would need.
    // An empty value means no cursor, as the EventSource spec sends none.
    const requested =
      decodeLastEventId(exchange.header('last-event-id')) ||
      exchange.url.searchParams.get('lastEventId') ||
      undefined
    const stop = new AbortController()
    let attachment: Attachment
    let expiresAt: number | undefined
    try {
      const info = await findStream(exchange, id)
      const principal = await access.check(exchange, 'read', id, info.meta[OWNER_KEY])
      expiresAt = await access.expiryOf(exchange, principal)
      // While draining, serve only what ends by itself here: a stream produced here, or one
      // already finished. Anything else would be cut again at the deadline: go elsewhere now.
      if (shutdown.draining && info.status === 'live' && !runner.has(id)) throw shuttingDown()
      attachment = await attachAfter(log, id, info, requested, stop.signal)
    } catch (error) {
      failWith(exchange.reply, error, id)
      return
    }
    let writer: EventWriter
    try {
      writer = open(
        exchange,
        `${base}/${id}`,
        attachment.cursor,
        expiresAt,
        attachment.replayThrough,
      )
    } catch (error) {
      stop.abort()
      await attachment.events.return?.()
      failWith(exchange.reply, error, id)
      return
    }
    writer.signal.addEventListener('abort', () => stop.abort(), { once: true })
    if (requested !== undefined && writer instanceof StreamWriter) writer.recordResume()
    watch.attached(id, writer)
    attach({ ...attachment, writer }, id)
  }

  const del = async (exchange: Exchange, id: string) => {
    try {
      const info = await findStream(exchange, id)
      await access.check(exchange, 'cancel', id, info.meta[OWNER_KEY])
      if (info.status === 'live') await log.cancel(id)
      exchange.reply(204, cors)
    } catch (error) {
      failWith(exchange.reply, error, id)
    }
  }

  const route = async <R>(exchange: Exchange, producer: Producer<R> | undefined, request: R) => {
    const located = locateStream(basePath, exchange.url.pathname, exchange.mountPath)
    const { id } = located
    const path = exchange.url.pathname
    const notFound = () =>
      answer(
        exchange.reply,
        located.outside ? outsideBasePath(path, located, basePath) : unknownStreamAt(path),
      )
    switch (exchange.method) {
      case 'OPTIONS':
        exchange.reply(204, {
          ...cors,
          Allow: 'GET, POST, DELETE, OPTIONS',
          'Access-Control-Allow-Methods': 'GET, POST, DELETE, OPTIONS',
          'Access-Control-Allow-Headers': allowHeaders,
          'Access-Control-Max-Age': '600',
        })
        return
      case 'POST':
        if (producer) return post(exchange, producer, request, located.base)
        break
      case 'GET':
        if (id !== undefined)
          return ID_PATTERN.test(id) ? get(exchange, id, located.base) : notFound()
        break
      case 'DELETE':
        if (id !== undefined) return ID_PATTERN.test(id) ? del(exchange, id) : notFound()
        break
    }
    if (id === undefined && exchange.method !== 'POST') return notFound()
    answer(
      exchange.reply,
      new UnbrokenServerError('invalid-argument', `${exchange.method} is not allowed here.`),
      405,
    )
  }

  // The interface's overloads guarantee a request to a producer that needs one; without a request
  // the producer declared that it takes `undefined`.
  async function start<R>(
    producer: Producer<R | undefined>,
    startOptions: StartOptions<R> = {},
  ): Promise<StartedStream> {
    const started = await create(startOptions.principal, undefined, startOptions.meta)
    run(started, producer, startOptions.request)
    return { id: started.id, url: started.url }
  }

  /**
   * Runs one request so that nothing escapes as a rejection (a server wired as the README shows
   * would die of an unhandled one): what escapes is reported and given to `fail`.
   */
  const guard = async (work: () => Promise<void> | undefined, fail: () => void) => {
    try {
      await work()
    } catch (error) {
      report(error, undefined)
      try {
        fail()
      } catch (failure) {
        report(failure, undefined)
      }
    }
  }

  return {
    start,
    async handle(req, res, producer, routeOptions) {
      const reply = nodeReply(res)
      await guard(
        () => {
          const exchange = nodeExchange(hub, req, res, mountOf(routeOptions))
          if (exchange !== undefined) return route(exchange, producer, req)
          answer(
            reply,
            new UnbrokenServerError('invalid-argument', 'The request target is not a URL.'),
          )
        },
        () => {
          if (res.headersSent) res.destroy()
          else answer(reply, internalError())
        },
      )
    },
    async fetch(request, producer, routeOptions) {
      let exchange: WebExchange | undefined
      await guard(
        () => {
          exchange = webExchange(hub, request, mountOf(routeOptions))
          return route(exchange, producer, request)
        },
        () => {
          if (exchange && !exchange.response) answer(exchange.reply, internalError())
        },
      )
      return exchange?.response ?? new Response(null, { status: 500 })
    },
    async cancel(streamId) {
      await log.cancel(streamId)
    },
    basePath,
    get active() {
      return runner.size
    },
    drain: (drainOptions) => shutdown.drain(drainOptions),
    close: () => shutdown.drain({ deadlineMs: 0 }),
  }
}

function mountOf(routeOptions: RouteOptions | undefined): string | undefined {
  return routeOptions?.mountPath === undefined
    ? undefined
    : normalizePath('mountPath', routeOptions.mountPath)
}

function logToConsole(error: unknown, streamId: string | undefined): void {
  console.error(
    streamId === undefined
      ? 'Unbroken: a request failed (pass onError to createResumableStreams to handle this):'
      : `Unbroken: stream ${streamId} failed (pass onError to createResumableStreams to handle this):`,
    error,
  )
}

/** A stream admitted and created, with its place in the limits to give back when it ends. */
interface Admitted extends StartedStream {
  readonly release: Release
}

function shuttingDown(): UnbrokenServerError {
  return new UnbrokenServerError('shutting-down', 'The server is shutting down; try again.')
}

function internalError(): UnbrokenServerError {
  return new UnbrokenServerError('internal-error', 'The server could not answer this request.')
}
