import { UnbrokenServerError } from './errors'
import { createEventHub } from './hub'
import { decodeLastEventId } from './last-event-id'
import type { LoggedEvent } from './log'
import { createMemoryEventLog } from './memory-log'
import { createStreamAccess, OWNER_KEY } from './resumable-access'
import { type Exchange, nodeExchange, replyError, webExchange } from './resumable-http'
import { createProducerRunner, type Producer } from './resumable-producer'
import { type RelayInput, relay } from './resumable-relay'
import type { ResumableStreams, ResumableStreamsOptions, StartedStream } from './resumable-types'
import type { EventWriter } from './types'
import { StreamWriter } from './writer'

const ID_PATTERN = /^[A-Za-z0-9_-]{22,64}$/

/** 16 random bytes (128 bits; `randomUUID` has only 122) as base64url: an unguessable stream id. */
export function createStreamId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16))
  let binary = ''
  for (const byte of bytes) binary += String.fromCharCode(byte)
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

/**
 * Resumable streams: a producer (an LLM call) runs detached from any connection and writes into
 * the event log; connections attach, replay after `Last-Event-ID`, and tail live. A dropped
 * connection is not a cancel: only `DELETE`, `cancel()` or shutdown stop the producer.
 */
export function createResumableStreams(options: ResumableStreamsOptions = {}): ResumableStreams {
  const log = options.log ?? createMemoryEventLog()
  const hub = options.hub ?? createEventHub()
  const basePath = (options.basePath ?? '/streams').replace(/\/+$/, '')
  const access = createStreamAccess(options)
  const maxConcurrent = options.maxConcurrentStreams ?? 1000
  const retryAfterMs = options.retryAfterMs ?? 1000
  if (!(maxConcurrent > 0) || !(retryAfterMs >= 0)) {
    throw new UnbrokenServerError(
      'invalid-argument',
      'maxConcurrentStreams must be positive and retryAfterMs non-negative.',
    )
  }
  const runner = createProducerRunner({
    log,
    exposeErrors: options.exposeErrors,
    onError: options.onError,
  })
  let closing = false

  const cors: Record<string, string> = options.allowOrigin
    ? {
        'Access-Control-Allow-Origin': options.allowOrigin,
        'Access-Control-Expose-Headers': 'Content-Location, Retry-After',
        ...(options.allowOrigin === '*' ? {} : { Vary: 'Origin' }),
      }
    : {}

  const fail = (exchange: Exchange, error: UnbrokenServerError, status?: number) => {
    const { code, message, retryable } = error
    const payload = retryable
      ? { code, message, retryable, retryAfterMs }
      : { code, message, retryable }
    replyError(exchange, payload, cors, status)
  }

  const failWith = (exchange: Exchange, error: unknown) => {
    if (UnbrokenServerError.isInstance(error)) {
      fail(exchange, error)
      return
    }
    // An unexpected exception (e.g. from a `principal` hook): report it, answer without its text.
    options.onError?.(error, undefined)
    const message = 'The server could not answer this request.'
    replyError(exchange, { code: 'internal-error', message, retryable: false }, cors, 500)
  }

  // Streams admitted but not yet running count against the limit, so that concurrent POSTs
  // awaiting `log.create` cannot overshoot it.
  let pending = 0

  /** Admits and creates a stream (its producer is not running yet); throws why it cannot. */
  const create = async (
    principal: string | undefined,
    exchange: Exchange | undefined,
    meta?: Readonly<Record<string, string>>,
  ): Promise<StartedStream> => {
    if (closing || hub.closing) throw shuttingDown()
    const id = createStreamId()
    await access.authorize({
      action: 'create',
      principal,
      owner: undefined,
      streamId: id,
      request: exchange,
    })
    if (runner.size + pending >= maxConcurrent) {
      throw new UnbrokenServerError(
        'stream-limit',
        `This server runs ${maxConcurrent} streams at most; retry shortly.`,
      )
    }
    pending += 1
    try {
      await log.create(
        id,
        principal === undefined ? { ...meta } : { ...meta, [OWNER_KEY]: principal },
      )
    } catch (error) {
      pending -= 1
      throw error
    }
    return { id, url: `${basePath}/${id}` }
  }

  const run = <R>(started: StartedStream, producer: Producer<R>, request: R) => {
    pending -= 1
    runner.run(started.id, producer, request)
  }

  const post = async <R>(exchange: Exchange, producer: Producer<R>, request: R) => {
    let started: StartedStream
    let principal: string | undefined
    try {
      principal = await access.principalOf(exchange)
      started = await create(principal, exchange)
    } catch (error) {
      failWith(exchange, error)
      return
    }
    let writer: EventWriter
    try {
      const expiresAt = await access.expiryOf(exchange, principal)
      // `close()` may have stopped every producer while the hook ran; this one must not start.
      if (closing) throw shuttingDown()
      writer = exchange.open({ headers: { ...cors, 'Content-Location': started.url }, expiresAt })
    } catch (error) {
      // The hub (or the expiry hook) refused the connection: nobody will learn this URL, so never
      // start the producer.
      pending -= 1
      void log.complete(started.id).catch(() => {})
      failWith(exchange, error)
      return
    }
    run(started, producer, request)
    const events = log.read(started.id, { signal: writer.signal })[Symbol.asyncIterator]()
    attach({ events, writer, resumed: false })
  }

  const findStream = async (id: string) => {
    const info = await log.info(id)
    if (!info)
      throw new UnbrokenServerError('unknown-stream', `No stream "${id}"; it may have expired.`)
    return info
  }

  const get = async (exchange: Exchange, id: string) => {
    // The query form lets a cross-origin client skip the preflight a custom header would need.
    // An empty value means no cursor, as the EventSource spec sends none.
    const cursor =
      decodeLastEventId(exchange.header('last-event-id')) ||
      exchange.url.searchParams.get('lastEventId') ||
      undefined
    const stop = new AbortController()
    let events: AsyncIterator<LoggedEvent> | undefined
    let first: IteratorResult<LoggedEvent> | undefined
    let replayUntil: string | undefined
    let expiresAt: number | undefined
    try {
      const info = await findStream(id)
      const principal = await access.check(exchange, 'read', id, info.meta[OWNER_KEY])
      expiresAt = await access.expiryOf(exchange, principal)
      replayUntil = info.lastId
      events = log.read(id, { after: cursor, signal: stop.signal })[Symbol.asyncIterator]()
      // Pull once when there is something after the cursor: the log then answers at once with an
      // event or with unknown-stream/cursor-expired, which must become 404/410 before the 200.
      if (cursor === undefined ? info.lastId !== undefined : cursor !== info.lastId) {
        first = await events.next()
      }
    } catch (error) {
      await events?.return?.()
      failWith(exchange, error)
      return
    }
    let writer: EventWriter
    try {
      writer = exchange.open({
        headers: { ...cors, 'Content-Location': `${basePath}/${id}` },
        expiresAt,
      })
    } catch (error) {
      stop.abort()
      await events.return?.()
      failWith(exchange, error)
      return
    }
    writer.signal.addEventListener('abort', () => stop.abort(), { once: true })
    if (cursor !== undefined && writer instanceof StreamWriter) writer.recordResume()
    attach({ events, first, writer, resumed: cursor !== undefined, replayUntil })
  }

  const del = async (exchange: Exchange, id: string) => {
    try {
      const info = await findStream(id)
      await access.check(exchange, 'cancel', id, info.meta[OWNER_KEY])
      if (info.status === 'live') await log.cancel(id)
      exchange.reply(204, cors)
    } catch (error) {
      failWith(exchange, error)
    }
  }

  const attach = (input: RelayInput) => {
    void relay(input).catch((error: unknown) => options.onError?.(error, undefined))
  }

  const route = async (
    exchange: Exchange,
    producer: Producer<never> | undefined,
    request: unknown,
  ) => {
    const path = exchange.url.pathname
    const id = path.startsWith(`${basePath}/`) ? path.slice(basePath.length + 1) : undefined
    switch (exchange.method) {
      case 'OPTIONS':
        exchange.reply(204, {
          ...cors,
          Allow: 'GET, POST, DELETE, OPTIONS',
          'Access-Control-Allow-Methods': 'GET, POST, DELETE, OPTIONS',
          'Access-Control-Allow-Headers': 'Last-Event-ID, Content-Type, Authorization',
          'Access-Control-Max-Age': '600',
        })
        return
      case 'POST':
        if (producer) return post(exchange, producer as Producer<unknown>, request)
        break
      case 'GET':
        if (id !== undefined) return ID_PATTERN.test(id) ? get(exchange, id) : notFound(exchange)
        break
      case 'DELETE':
        if (id !== undefined) return ID_PATTERN.test(id) ? del(exchange, id) : notFound(exchange)
        break
    }
    if (id === undefined && exchange.method !== 'POST') return notFound(exchange)
    fail(
      exchange,
      new UnbrokenServerError('invalid-argument', `${exchange.method} is not allowed here.`),
      405,
    )
  }

  const notFound = (exchange: Exchange) =>
    fail(
      exchange,
      new UnbrokenServerError('unknown-stream', 'No stream at this URL; it may have expired.'),
    )

  return {
    async start(producer, startOptions = {}) {
      const started = await create(startOptions.principal, undefined, startOptions.meta)
      run(started, producer, startOptions.request as never)
      return started
    },
    async handle(req, res, producer) {
      await route(nodeExchange(hub, req, res), producer as Producer<never> | undefined, req)
    },
    async fetch(request, producer) {
      const exchange = webExchange(hub, request)
      await route(exchange, producer as Producer<never> | undefined, request)
      return exchange.response ?? new Response(null, { status: 500 })
    },
    async cancel(streamId) {
      await log.cancel(streamId)
    },
    get active() {
      return runner.size
    },
    async close() {
      if (closing) return
      closing = true
      await runner.stopAll()
      if (!options.hub) await hub.closeAll({ reason: 'shutdown' })
      if (!options.log) await log.close()
    },
  }
}

function shuttingDown(): UnbrokenServerError {
  return new UnbrokenServerError('shutting-down', 'The server is shutting down; retry elsewhere.')
}
