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
 * - `GET /react`: the React test page (`react-page.ts`, `useLLMStream` from source); `POST /llm`
 *   with a JSON `LLMAsk` body starts a protocol v1 LLM stream, counted in `/stats` under `llm`.
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
import { type LLMAsk, llmProducer } from './llm'

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
// React's development build: StrictMode double-mounts only there, and `<Profiler>` counts commits.
const reactBundle = await build({
  entryPoints: [`${import.meta.dirname}/react-page.ts`],
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  write: false,
  conditions: ['@unbroken/source'],
  define: { 'process.env.NODE_ENV': '"development"' },
})
const reactScript = reactBundle.outputFiles[0]?.text ?? ''
const reactPage =
  '<!doctype html><meta charset="utf-8"><title>unbroken react e2e</title><div id="root"></div><script type="module" src="/react.js"></script>'
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

/** What the server saw of the LLM streams: requests by method, open connections, cancelled producers. */
const llm = { POST: 0, GET: 0, DELETE: 0, open: 0, cancelled: 0 }
const llmStreams = new Set<string>()

async function startLLM(req: IncomingMessage, res: ServerResponse) {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  const produce = llmProducer(JSON.parse(Buffer.concat(chunks).toString()) as LLMAsk)
  await registry.handle(req, res, async (stream) => {
    llmStreams.add(stream.id)
    stream.signal.addEventListener('abort', () => {
      if (stream.signal.reason === 'cancelled') llm.cancelled++
    })
    await produce(stream, undefined)
  })
}

/** Counts a request to an LLM stream, and its connection while it is open. */
function countLLM(req: IncomingMessage, res: ServerResponse, path: string) {
  const isLLM = path === '/llm' || llmStreams.has(path.slice('/streams/'.length))
  const method = req.method as 'POST' | 'GET' | 'DELETE'
  if (!isLLM || !(method in llm)) return
  llm[method]++
  if (method === 'DELETE') return
  llm.open++
  res.once('close', () => llm.open--)
}

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
  if (path === '/react') return reply(res, 'text/html; charset=utf-8', reactPage)
  if (path === '/react.js') return reply(res, 'text/javascript; charset=utf-8', reactScript)
  if (path === '/stats')
    return reply(res, 'application/json', JSON.stringify({ requests, hub: hub.metrics(), llm }))
  countLLM(req, res, path)
  if (path === '/llm' && req.method === 'POST') return startLLM(req, res)
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
