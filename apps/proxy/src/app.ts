// The HTTP surface: which route does what. Stream endpoints hand over to the resumable-stream
// registry (`@unbroken/server`) once the request is validated; everything else is answered here.
import type { HttpBindings } from '@hono/node-server'
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response'
import {
  type ErrorPayload,
  type Producer,
  type ResumableStreams,
  UnbrokenServerError,
} from '@unbroken/server'
import { type Context, Hono } from 'hono'
import { cors } from 'hono/cors'
import { z } from 'zod'
import { createAnonymousSubject, type TokenAuth } from './auth'
import { parseJson, readBody } from './body'
import { ProxyError, STATUS } from './errors'
import { addAnthropicRoutes } from './formats/anthropic-routes'
import { nativeFormat } from './formats/native'
import { addOpenAIRoutes } from './formats/openai-routes'
import type { SdkStreams } from './formats/sdk-stream'
import type { Logger } from './logger'
import type { ProxyMetrics } from './metrics'
import type { StreamProducers } from './producer'
import { describeIssues, parseNativeRequest } from './request'
import { FAULT_HEADER, type Faults, parseFaults } from './upstreams/faults'
import type { Upstream } from './upstreams/upstream'

/** Where stream URLs live: `POST` here, then `GET`/`DELETE` `${STREAMS_PATH}/<id>`. */
export const STREAMS_PATH = '/v1/streams'

/** What the routes need; built once by `startProxy`. */
export interface AppDeps {
  readonly upstream: Upstream
  readonly streams: ResumableStreams
  /** The answers of the compatible endpoints to clients that cannot resume (the SDKs). */
  readonly sdkStreams: SdkStreams
  readonly producers: StreamProducers
  /** `undefined` in open local mode (no token secret). */
  readonly auth: TokenAuth | undefined
  readonly mintKey: string | undefined
  readonly corsOrigin: string | undefined
  readonly metrics: ProxyMetrics
  readonly logger: Logger
  readonly lifecycle: Lifecycle
  /** Answer streams with a Web `Response` body (for the demo's network controls) instead of the Node path. */
  readonly webResponses: boolean
}

/** Whether this instance takes new work. */
export interface Lifecycle {
  /** True once SIGTERM arrived: new streams are refused, running ones finish. */
  readonly draining: boolean
  /** Whether the event log answers. */
  logReady(): Promise<boolean>
}

const tokenBody = z
  .object({
    subject: z
      .string()
      .regex(/^[\w.@:-]{1,128}$/, 'letters, digits and . _ @ : -, 1–128 long')
      .optional(),
    ttlSeconds: z.number().int().positive().optional(),
  })
  .strict()

/** The proxy's routes; they run on @hono/node-server, which gives them the Node request. */
export type ProxyApp = Hono<{ Bindings: HttpBindings }>

/** A request of the proxy's routes. */
export type ProxyContext = Context<{ Bindings: HttpBindings }>

/** What every stream endpoint does before and after its own parsing, whatever its format. */
export interface StreamRouteContext {
  /** Refuses new work while draining, authenticates, reads the simulated faults. */
  admit(c: ProxyContext): Promise<{ subject: string | undefined; faults: Faults | undefined }>
  /** Hands the stream of `producer` to the registry, which answers with its events. */
  toRegistry(c: ProxyContext, producer?: Producer): Promise<Response>
}

export function createApp(deps: AppDeps): ProxyApp {
  const { streams, producers, logger } = deps
  const app: ProxyApp = new Hono()

  // Stream responses take the registry's Node path straight onto the socket (one write per tick,
  // no Web stream in between): measured cheaper per token than `streams.fetch` behind
  // @hono/node-server (decisions.md). So the proxy runs on @hono/node-server only. The demo's
  // network controls pace and cut a Web response body, so with them on streams use that path.
  const toRegistry = async (c: ProxyContext, producer?: Producer) => {
    if (deps.webResponses) return streams.fetch(c.req.raw, producer)
    await streams.handle(c.env.incoming, c.env.outgoing, producer)
    return RESPONSE_ALREADY_SENT
  }

  const admit = async (c: ProxyContext) => {
    if (deps.lifecycle.draining) throw shuttingDown()
    const subject = deps.auth
      ? (await deps.auth.authenticate(c.env.incoming, c.req.header('authorization'))).subject
      : undefined
    return { subject, faults: readFaults(c.req.header(FAULT_HEADER), deps.upstream) }
  }

  if (deps.corsOrigin) {
    // The stream routes answer CORS themselves (the registry exposes Content-Location and allows
    // Last-Event-ID); this covers the rest.
    app.use(
      '/v1/auth/*',
      cors({ origin: deps.corsOrigin, allowHeaders: ['Content-Type', 'Authorization'] }),
    )
  }

  app.post(STREAMS_PATH, async (c) => {
    const { subject, faults } = await admit(c)
    const body = parseNativeRequest(parseJson(await readBody(c.env.incoming)))
    const request = { ...body, model: body.model ?? deps.upstream.defaultModel }
    const producer = producers.create({ request, format: nativeFormat, subject, faults })
    return toRegistry(c, producer)
  })

  const compat = {
    admit,
    toRegistry,
    producers,
    logger,
    corsOrigin: deps.corsOrigin,
    sdkStreams: deps.sdkStreams,
  }
  addAnthropicRoutes(app, compat)
  addOpenAIRoutes(app, { ...compat, upstream: deps.upstream })

  app.on(['GET', 'DELETE', 'OPTIONS'], [STREAMS_PATH, `${STREAMS_PATH}/:id`], (c) => {
    const id = c.req.param('id')
    if (id !== undefined && c.req.method === 'GET') {
      const cursor = c.req.header('last-event-id') ?? c.req.query('lastEventId')
      if (cursor) {
        producers.resumed(id)
        logger.info({ streamId: id, lastEventId: cursor }, 'stream resumed')
      }
    }
    if (id !== undefined && c.req.method === 'DELETE') {
      logger.info({ streamId: id }, 'stream cancel requested')
    }
    return toRegistry(c)
  })

  app.post('/v1/auth/token', async (c) => {
    const { auth } = deps
    if (!auth) {
      throw new ProxyError(
        'auth-disabled',
        'This proxy runs in open local mode (no --token-secret): streams need no token.',
      )
    }
    if (deps.mintKey !== undefined && c.req.header('authorization') !== `Bearer ${deps.mintKey}`) {
      throw new UnbrokenServerError(
        'unauthenticated',
        'Minting tokens needs `Authorization: Bearer <token mint key>`.',
      )
    }
    const text = await readBody(c.env.incoming)
    const parsed = tokenBody.safeParse(text.trim() === '' ? {} : parseJson(text))
    if (!parsed.success) throw new ProxyError('invalid-request', describeIssues(parsed.error))
    const { subject = createAnonymousSubject(), ttlSeconds } = parsed.data
    const issued = await auth.issue(subject, ttlSeconds && ttlSeconds * 1000)
    logger.info({ subject, expiresAt: issued.expiresAt }, 'token issued')
    return c.json({ ...issued, tokenType: 'Bearer' })
  })

  app.get('/metrics', async (c) => {
    const { registry } = deps.metrics
    return c.body(await registry.metrics(), 200, { 'Content-Type': registry.contentType })
  })

  app.get('/healthz', (c) => c.json({ status: 'ok' }))

  app.get('/readyz', async (c) => {
    if (deps.lifecycle.draining) return c.json({ status: 'draining' }, 503)
    if (!(await deps.lifecycle.logReady())) return c.json({ status: 'log-unavailable' }, 503)
    return c.json({ status: 'ready' })
  })

  app.notFound(() =>
    errorResponse(new ProxyError('not-found', 'No such endpoint; see the README for the list.')),
  )

  app.onError((error) => {
    if (error instanceof ProxyError || error instanceof UnbrokenServerError) {
      return errorResponse(error)
    }
    logger.error({ err: error }, 'request failed')
    return errorResponse(error)
  })

  return app
}

/** A JSON error answer in the protocol's error shape, with the status its code calls for. */
export function errorResponse(error: unknown): Response {
  let payload: ErrorPayload
  let status: number
  if (error instanceof ProxyError) {
    payload = error.toPayload()
    status = STATUS[error.code]
  } else if (error instanceof UnbrokenServerError) {
    const { code, message, retryable } = error
    payload = retryable
      ? { code, message, retryable, retryAfterMs: 1000 }
      : { code, message, retryable }
    status = STATUS_OF_SERVER[code] ?? 500
  } else {
    payload = {
      code: 'internal-error',
      message: 'The proxy could not answer this request.',
      retryable: false,
    }
    status = 500
  }
  const headers: Record<string, string> = { 'Content-Type': 'application/json; charset=utf-8' }
  if (payload.retryAfterMs !== undefined) {
    headers['Retry-After'] = String(Math.max(1, Math.ceil(payload.retryAfterMs / 1000)))
  }
  return new Response(JSON.stringify(payload), { status, headers })
}

const STATUS_OF_SERVER: Partial<Record<UnbrokenServerError['code'], number>> = {
  unauthenticated: 401,
  forbidden: 403,
  'shutting-down': 503,
}

function readFaults(header: string | undefined, upstream: Upstream): Faults | undefined {
  if (header === undefined) return undefined
  if (upstream.kind !== 'simulated') {
    throw new ProxyError(
      'invalid-request',
      `${FAULT_HEADER} works with the simulated upstream only; this proxy uses ${upstream.kind}.`,
    )
  }
  return parseFaults(header)
}

function shuttingDown(): UnbrokenServerError {
  return new UnbrokenServerError(
    'shutting-down',
    'This instance is shutting down; retry (another instance will take the stream).',
  )
}
