/**
 * The browser tests' server, run as a child process on workspace sources (the Playwright runner
 * does not resolve `@unbroken/source`). It serves the test page, our client bundled from source
 * by esbuild, and our server's streams:
 *
 * - `GET /canonical?key=K&retry=MS&every=N`: the canonical events through our hub's writer, with a
 *   `retry:` hint; with `every`, each connection closes after N events (no terminal event) and a
 *   reconnect resumes after its `Last-Event-ID`.
 * - `POST /streams?events=N&pauseMs=M`: a resumable stream of the source events (the registry);
 *   `GET`/`DELETE /streams/:id` resume and cancel; `POST /start?...` starts one without a
 *   connection and answers its URL, for clients that can only GET (native EventSource).
 * - `POST /token?ttlMs=T`: a bearer token; the hub sends `auth-expired` before the newest expires.
 * - `GET /reference/:id`: the stream's events from the log; `GET /stats`: request counts by key.
 *
 * Everything is served on two ports, the second being a cross-origin server for the page (the
 * registry allows any origin). Prints `{"port":N,"crossOriginPort":M}` once listening.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { createEventHub, createMemoryEventLog, createResumableStreams } from '@unbroken/server'
import { listen } from '@unbroken/test-kit'
import { build } from 'esbuild'
import { produce, readLog, sourceEvents } from '../../faults/source'
import { closeAfterResponse } from '../../support/connection-close'
import { CANONICAL_EVENTS } from '../../support/events'

const AUTH_LEAD_MS = 1_000

const bundle = await build({
  entryPoints: [`${import.meta.dirname}/page-entry.ts`],
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  write: false,
  conditions: ['@unbroken/source'],
})
const script = bundle.outputFiles[0]?.text ?? ''
const page =
  '<!doctype html><meta charset="utf-8"><title>unbroken e2e</title><script type="module" src="/client.js"></script>'

const tokens = new Map<string, number>()
// Far enough for any test until a test issues a short-lived token; finite, or the hub reads it as expired.
let newestExpiry = Date.now() + 86_400_000
const log = createMemoryEventLog({ ttlMs: 600_000 })
const hub = createEventHub({
  retryMs: 0,
  keepAliveMs: 0,
  authLeadMs: AUTH_LEAD_MS,
  // The hub asks when the lead time arrives, so a token refreshed by then keeps the connection.
  expiresAt: () => newestExpiry,
})
const registry = createResumableStreams({
  log,
  hub,
  // The same endpoints are served on a second port: a cross-origin server for the page.
  allowOrigin: '*',
  principal: (request) => {
    const token = request.header('authorization')?.replace(/^Bearer /, '')
    const expiry = token === undefined ? undefined : tokens.get(token)
    return expiry !== undefined && expiry > Date.now() ? 'user' : undefined
  },
})
const requests: Record<string, number> = {}

const producerFor = (url: URL) =>
  produce(sourceEvents(Number(url.searchParams.get('events') ?? 2_000)), {
    batch: 10,
    pauseMs: Number(url.searchParams.get('pauseMs') ?? 0),
  })

function reply(res: ServerResponse, type: string, body: string) {
  res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' })
  res.end(body)
}

async function canonical(req: IncomingMessage, res: ServerResponse, url: URL) {
  const key = url.searchParams.get('key') ?? ''
  requests[key] = (requests[key] ?? 0) + 1
  const writer = hub.node(req, res, { retryMs: Number(url.searchParams.get('retry') ?? 0) })
  const after = Number(writer.lastEventId ?? 0)
  let budget = Number(url.searchParams.get('every') ?? Number.POSITIVE_INFINITY)
  for (const { type, id, data } of CANONICAL_EVENTS) {
    if (Number(id) <= after) continue
    if (budget-- === 0) break
    await writer.send({ id, event: type === 'message' ? undefined : type, data })
  }
  writer.close()
}

async function route(req: IncomingMessage, res: ServerResponse) {
  const url = new URL(req.url ?? '/', 'http://page')
  const path = url.pathname
  if (path === '/') return reply(res, 'text/html; charset=utf-8', page)
  if (path === '/client.js') return reply(res, 'text/javascript; charset=utf-8', script)
  if (path === '/canonical') return canonical(req, res, url)
  if (path === '/stats')
    return reply(res, 'application/json', JSON.stringify({ requests, hub: hub.metrics() }))
  if (path === '/token' && req.method === 'POST') {
    const expiry = Date.now() + Number(url.searchParams.get('ttlMs') ?? 600_000)
    const token = crypto.randomUUID()
    tokens.set(token, expiry)
    newestExpiry = expiry
    return reply(res, 'application/json', JSON.stringify({ token }))
  }
  if (path === '/start' && req.method === 'POST') {
    const { url: streamUrl } = await registry.start(producerFor(url))
    return reply(res, 'application/json', JSON.stringify({ url: streamUrl }))
  }
  if (path.startsWith('/reference/')) {
    return reply(
      res,
      'application/json',
      JSON.stringify(await readLog(log, path.slice('/reference/'.length))),
    )
  }
  return registry.handle(req, res, producerFor(url))
}

const handler = (req: IncomingMessage, res: ServerResponse) => {
  closeAfterResponse(res)
  route(req, res).catch((error: unknown) => {
    if (!res.headersSent) res.writeHead(500)
    res.end(String(error))
  })
}
const [served, crossOrigin] = await Promise.all([listen(handler), listen(handler)])
process.stdout.write(
  `${JSON.stringify({ port: served.port, crossOriginPort: crossOrigin.port })}\n`,
)
