// One benchmark server per child process, so that each contender's RSS and CPU are its own.
// Usage (forked by suites/server.ts): server-contenders.ts <contender> <keepAliveMs>
// Routes: /tp?n=N (N events as fast as backpressure allows, then done), /lat?n=N (one event per
// ms carrying the monotonic send time in ns), /idle (opening bytes, then only keepalives).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createAdaptorServer } from '@hono/node-server'
import { createEventHub, type EventWriter } from '@unbroken/server'
import { createSession } from 'better-sse'
import { createEventStream, H3, toNodeHandler } from 'h3'
import { Hono } from 'hono'
import { streamSSE } from 'hono/streaming'

/** What every contender must do for one request; `done` is written by each in its own way. */
interface Route {
  kind: 'tp' | 'lat' | 'idle'
  n: number
}

const contender = process.argv[2] ?? 'raw'
const keepAliveMs = Number(process.argv[3] ?? 15_000)
const payload = (i: number) => `{"i":${i},"t":"token"}`

function route(url: string): Route {
  const parsed = new URL(url, 'http://x')
  const kind = parsed.pathname.slice(1) as Route['kind']
  return { kind, n: Number(parsed.searchParams.get('n') ?? 0) }
}

/** Calls `tick(i)` once per ms for `n` ms, then `end()`; stops early via the returned cancel. */
function everyMs(n: number, tick: (i: number) => void, end: () => void): () => void {
  let i = 0
  const timer = setInterval(() => {
    tick(i)
    if (++i >= n) {
      clearInterval(timer)
      end()
    }
  }, 1)
  return () => clearInterval(timer)
}

const now = () => String(process.hrtime.bigint())

function raw(req: IncomingMessage, res: ServerResponse): void {
  const { kind, n } = route(req.url ?? '/')
  res.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
  })
  res.write(': ok\n\n')
  let closed = false
  res.on('close', () => {
    closed = true
  })
  if (kind === 'idle') {
    const timer = setInterval(() => res.write(':\n\n'), keepAliveMs)
    res.on('close', () => clearInterval(timer))
  } else if (kind === 'lat') {
    const cancel = everyMs(
      n,
      () => res.write(`data: ${now()}\n\n`),
      () => res.end('event: done\ndata: {}\n\n'),
    )
    res.on('close', cancel)
  } else {
    void (async () => {
      for (let i = 0; i < n && !closed; i++) {
        if (!res.write(`id: ${i}\ndata: ${payload(i)}\n\n`)) await drained(res)
      }
      res.end('event: done\ndata: {}\n\n')
    })()
  }
}

/** Drain raced against close: the correct way to await a raw write (not the hanging one). */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done)
      res.off('close', done)
      resolve()
    }
    res.on('drain', done)
    res.on('close', done)
  })
}

const hub = createEventHub({ keepAliveMs })

async function ours(writer: EventWriter, { kind, n }: Route): Promise<void> {
  if (kind === 'idle') return
  if (kind === 'lat') {
    const cancel = everyMs(
      n,
      () => void writer.send({ data: now() }),
      () => void writer.end(),
    )
    writer.signal.addEventListener('abort', cancel)
    return
  }
  for (let i = 0; i < n; i++) {
    if ((await writer.send({ id: i, data: payload(i) })) === 'closed') return
  }
  await writer.end()
}

async function betterSse(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { kind, n } = route(req.url ?? '/')
  const session = await createSession(req, res, {
    keepAlive: kind === 'idle' ? keepAliveMs : null,
    serializer: String,
  })
  if (kind === 'idle') return
  if (kind === 'lat') {
    const cancel = everyMs(
      n,
      () => session.push(now()),
      () => {
        session.push('{}', 'done')
        res.end()
      },
    )
    res.on('close', cancel)
    return
  }
  // better-sse has no backpressure: push never waits (the behaviour under test).
  for (let i = 0; i < n && session.isConnected; i++) session.push(payload(i), 'message', String(i))
  session.push('{}', 'done')
  res.end()
}

function honoApp(): Hono {
  const app = new Hono()
  app.get('*', (c) =>
    streamSSE(c, async (stream) => {
      const { kind, n } = route(c.req.url)
      if (kind === 'idle') {
        await new Promise<void>((resolve) => {
          const timer = setInterval(() => void stream.write(':\n\n'), keepAliveMs)
          stream.onAbort(() => {
            clearInterval(timer)
            resolve()
          })
        })
      } else if (kind === 'lat') {
        await new Promise<void>((resolve) => {
          const cancel = everyMs(n, () => void stream.writeSSE({ data: now() }), resolve)
          stream.onAbort(() => {
            cancel()
            resolve()
          })
        })
        await stream.writeSSE({ event: 'done', data: '{}' })
      } else {
        for (let i = 0; i < n && !stream.aborted; i++)
          await stream.writeSSE({ id: String(i), data: payload(i) })
        await stream.writeSSE({ event: 'done', data: '{}' })
      }
    }),
  )
  return app
}

function h3App(): H3 {
  const app = new H3()
  app.get('/**', (event) => {
    const stream = createEventStream(event)
    const { kind, n } = route(event.req.url)
    if (kind === 'idle') {
      const timer = setInterval(() => void stream.pushComment(''), keepAliveMs)
      stream.onClosed(() => clearInterval(timer))
    } else if (kind === 'lat') {
      const cancel = everyMs(
        n,
        () => void stream.push({ data: now() }),
        () => void stream.push({ event: 'done', data: '{}' }).then(() => stream.close()),
      )
      stream.onClosed(cancel)
    } else {
      void (async () => {
        for (let i = 0; i < n; i++) await stream.push({ id: String(i), data: payload(i) })
        await stream.push({ event: 'done', data: '{}' })
        await stream.close()
      })()
    }
    return stream.send()
  })
  return app
}

function create(): Server {
  switch (contender) {
    case 'raw':
      return createServer(raw)
    case 'ours-node':
      return createServer((req, res) => void ours(hub.node(req, res), route(req.url ?? '/')))
    case 'ours-web':
      return createAdaptorServer({
        fetch: (request: Request) => {
          const { response, writer } = hub.web(request)
          void ours(writer, route(request.url))
          return response
        },
      }) as Server
    case 'better-sse':
      return createServer((req, res) => void betterSse(req, res))
    case 'hono':
      return createAdaptorServer({ fetch: honoApp().fetch }) as Server
    case 'h3':
      return createServer(toNodeHandler(h3App()))
    default:
      throw new Error(`unknown contender ${contender}`)
  }
}

const server = create()
server.listen(0, '127.0.0.1', () => {
  const address = server.address()
  process.send?.({
    type: 'ready',
    port: typeof address === 'object' && address !== null ? address.port : 0,
  })
})

let cpuStart = process.cpuUsage()
let wallStart = performance.now()
process.on('message', (message: { type: string; id: number }) => {
  const reply = (value: unknown) => process.send?.({ type: 'reply', id: message.id, value })
  if (message.type === 'rss') {
    // Two GCs settle what the previous scenario left behind, so the delta is the connections'.
    globalThis.gc?.()
    globalThis.gc?.()
    reply(process.memoryUsage().rss)
  } else if (message.type === 'cpu-start') {
    cpuStart = process.cpuUsage()
    wallStart = performance.now()
    reply(0)
  } else if (message.type === 'cpu-stop') {
    const used = process.cpuUsage(cpuStart)
    reply(((used.user + used.system) / 1000 / (performance.now() - wallStart)) * 1000)
  }
})
