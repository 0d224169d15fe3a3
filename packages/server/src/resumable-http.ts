import type { ServerResponse } from 'node:http'
import { statusOf } from './errors'
import type {
  ErrorPayload,
  EventHub,
  EventWriter,
  EventWriterOptions,
  NodeRequest,
  NodeResponse,
} from './types'

/** The parts of a request the registry's hooks may look at, the same on Node and Fetch runtimes. */
export interface StreamRequest {
  readonly method: string
  readonly url: URL
  /** A request header by case-insensitive name. */
  header(name: string): string | undefined
  /** The runtime's own request: a Node `IncomingMessage`/`Http2ServerRequest` or a Web `Request`. */
  readonly raw: NodeRequest | Request
}

/** Answers without a stream (errors, cancel, preflight). */
export type Reply = (status: number, headers: Record<string, string>, body?: string) => void

/** One request/response pair, so the registry's routing is written once for Node and Fetch. */
export interface Exchange extends StreamRequest {
  /** The prefix a router stripped or mounted the registry under (`''` for none); `url` keeps it. */
  readonly mountPath: string
  readonly reply: Reply
  /** Opens the SSE response through the hub (status and headers go out at once). */
  open(options: EventWriterOptions): EventWriter
}

// Any absolute base works: only the path and query of a Node request URL are used.
const BASE = 'http://localhost'

/** The URL of a request target, or `undefined` when it does not parse (`//[/`, port 99999). */
function parseTarget(target: string): URL | undefined {
  return URL.canParse(target, BASE) ? new URL(target, BASE) : undefined
}

/**
 * Express and Connect strip a mount's prefix from `req.url` and keep the client's URL in
 * `originalUrl`; the difference between their paths is the mount. `undefined` when a target does
 * not parse: that is the client's mistake, answered 400, never an exception.
 */
export function mountedUrl(req: NodeRequest): { url: URL; mountPath: string } | undefined {
  const routed = parseTarget(req.url ?? '/')
  const original = (req as { originalUrl?: unknown }).originalUrl
  if (routed === undefined) return undefined
  if (typeof original !== 'string' || original === req.url) return { url: routed, mountPath: '' }
  const url = parseTarget(original)
  if (url === undefined) return undefined
  const routedPath = routed.pathname === '/' ? '' : routed.pathname
  const mountPath = url.pathname.endsWith(routedPath)
    ? url.pathname.slice(0, url.pathname.length - routedPath.length).replace(/\/+$/, '')
    : ''
  return { url, mountPath }
}

/** `Reply` on a Node response; a no-op once the headers went out. */
export function nodeReply(res: NodeResponse): Reply {
  return (status, headers, body) => {
    if (res.headersSent) return
    ;(res as ServerResponse).writeHead(status, headers)
    if (body === undefined) res.end()
    else res.end(body)
  }
}

/** The exchange of a Node request, or `undefined` when its target is not a URL. */
export function nodeExchange(
  hub: EventHub,
  req: NodeRequest,
  res: NodeResponse,
  mountPath?: string,
): Exchange | undefined {
  const mounted = mountedUrl(req)
  if (mounted === undefined) return undefined
  return {
    method: req.method ?? 'GET',
    url: mounted.url,
    mountPath: mountPath ?? mounted.mountPath,
    raw: req,
    header(name) {
      const value = req.headers[name.toLowerCase()]
      return Array.isArray(value) ? value[0] : value
    },
    reply: nodeReply(res),
    open: (options) => hub.node(req, res, options),
  }
}

/** A Fetch exchange; `response` is set by whichever of `reply`/`open` ran. */
export interface WebExchange extends Exchange {
  readonly response: Response | undefined
}

export function webExchange(hub: EventHub, request: Request, mountPath = ''): WebExchange {
  let response: Response | undefined
  return {
    method: request.method,
    url: new URL(request.url),
    mountPath,
    raw: request,
    header: (name) => request.headers.get(name) ?? undefined,
    reply(status, headers, body) {
      response = new Response(body ?? null, { status, headers })
    },
    open(options) {
      const opened = hub.web(request, options)
      response = opened.response
      return opened.writer
    },
    get response() {
      return response
    },
  }
}

/** A JSON error answer: the same `ErrorPayload` the stream's `error` event carries. */
export function replyError(
  reply: Reply,
  payload: ErrorPayload,
  headers: Record<string, string>,
  status = statusOf(payload.code),
): void {
  const extra: Record<string, string> = {}
  if (payload.retryAfterMs !== undefined) {
    extra['Retry-After'] = String(Math.max(1, Math.ceil(payload.retryAfterMs / 1000)))
  }
  reply(
    status,
    {
      ...headers,
      ...extra,
      'Content-Type': 'application/json; charset=utf-8',
      'Cache-Control': 'no-store',
    },
    JSON.stringify(payload),
  )
}
