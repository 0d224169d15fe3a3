// One benchmark server per child process, so that each contender's heap, RSS and CPU are its own.
// Usage (forked by suites/server.ts): contenders.ts <contender> <keepAliveMs>
// Routes (any method): /tp?n=N sends N payload events as fast as backpressure allows, then done;
// /lat?n=N one event per ms whose `created` is the send time in µs; /idle the opening, then only
// keepalives. Every event is the payload module's chunk, JSON.stringify'd per event, with an id.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createAdaptorServer } from '@hono/node-server'
import type { EventWriter } from '@unbroken/server'
import * as current from '@unbroken/server'
import { createSession } from 'better-sse'
import { createEventStream, H3, toNodeHandler } from 'h3'
import { Hono } from 'hono'
import { streamSSE } from 'hono/streaming'
import { chatCompletionChunk, chunkData } from '../payload'
import type { Contender } from './children'

interface Route {
  kind: 'tp' | 'lat' | 'idle'
  n: number
}

function route(url: string): Route {
  const parsed = new URL(url, 'http://x')
  const kind = parsed.pathname.slice(1) as Route['kind']
  return { kind, n: Number(parsed.searchParams.get('n') ?? 0) }
}

/** Latency events carry their send time (µs on the monotonic clock shared by all processes). */
const timedData = () =>
  JSON.stringify({
    ...chatCompletionChunk(0),
    created: Number(process.hrtime.bigint() / 1000n),
  })

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

const DONE = 'event: done\ndata: {}\n\n'

/**
 * Drain raced against close, both listeners removed after: the correct way to await a raw write
 * (awaiting only `drain` hangs on a closed client; racing two `once()`s leaks the loser's listeners).
 */
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

/**
 * Raw node:http with the same work: format each event with a template, write, honour
 * backpressure. `batch` coalesces: one write per 64 KiB ('bytes') or per 64 events ('events'),
 * which is the physical limit a writer that coalesces can reach.
 */
function raw(batch: 'none' | 'bytes' | 'events') {
  return (req: IncomingMessage, res: ServerResponse) => {
    const { kind, n } = route(req.url ?? '/')
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    })
    res.write('retry: 1000\n: ok\n\n')
    if (kind === 'idle') {
      const timer = setInterval(() => res.write(':\n'), keepAliveMs)
      res.on('close', () => clearInterval(timer))
    } else if (kind === 'lat') {
      const cancel = everyMs(
        n,
        (i) => res.write(`id: ${i}\ndata: ${timedData()}\n\n`),
        () => res.end(DONE),
      )
      res.on('close', cancel)
    } else {
      void (async () => {
        let pending = ''
        let count = 0
        for (let i = 0; i < n && !res.destroyed; i++) {
          pending += `id: ${i}\ndata: ${chunkData(i)}\n\n`
          count++
          if (
            batch === 'none' ||
            (batch === 'bytes' && pending.length >= 65_536) ||
            (batch === 'events' && count === 64)
          ) {
            const ok = res.write(pending)
            pending = ''
            count = 0
            if (!ok) await drained(res)
          }
        }
        res.end(pending + DONE)
      })()
    }
  }
}

const contender = process.argv[2] as Contender
const keepAliveMs = Number(process.argv[3] ?? 15_000)
// BENCH_BASELINE=<another checkout's packages/server/src/index.ts>: the base-* contenders run that
// copy of the server, so that a change is measured against its baseline in the same rounds.
const baseline = process.env.BENCH_BASELINE
if (contender.startsWith('base-') && !baseline) throw new Error(`${contender} needs BENCH_BASELINE`)
const { createEventHub, createMemoryEventLog, createResumableStreams }: typeof current =
  contender.startsWith('base-') ? await import(baseline as string) : current
const hub = createEventHub({ keepAliveMs })

/** Our writer, driven as its README says: await every send, stop on 'closed'. */
async function ours(writer: EventWriter, { kind, n }: Route): Promise<void> {
  if (kind === 'idle') return
  if (kind === 'lat') {
    const cancel = everyMs(
      n,
      (i) => void writer.send({ id: i, data: timedData() }),
      () => void writer.end(),
    )
    writer.signal.addEventListener('abort', cancel)
    return
  }
  for (let i = 0; i < n; i++) {
    if ((await writer.send({ id: i, data: chunkData(i) })) === 'closed') return
  }
  await writer.end()
}

/** The resumable registry on the memory log: POST runs a producer, the response tails the log. */
function resumable(): Server {
  const streams = createResumableStreams({
    hub,
    // Room for the largest scenario (1 × 200k, 50 × 20k), gone a second after each ends.
    log: createMemoryEventLog({ maxEvents: 250_000, maxBytes: 256 * 1024 * 1024, ttlMs: 1000 }),
    maxConcurrentStreams: 10_000,
  })
  return createServer((req, res) => {
    const { kind, n } = route(req.url ?? '/')
    void streams.handle(req, res, async (stream) => {
      if (kind === 'tp') {
        for (let i = 0; i < n; i++) await stream.send({ data: chunkData(i) })
      } else if (kind === 'lat') {
        await new Promise<void>((resolve) => {
          const cancel = everyMs(n, () => void stream.send({ data: timedData() }), resolve)
          stream.signal.addEventListener('abort', () => {
            cancel()
            resolve()
          })
        })
      }
    })
  })
}

/**
 * better-sse has no backpressure of its own (`push` ignores `res.write`'s result), so it is driven
 * the way its docs leave to the user on Node: push, and when the response needs a drain, await it.
 */
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
      (i) => session.push(timedData(), 'message', String(i)),
      () => {
        session.push('{}', 'done')
        res.end()
      },
    )
    res.on('close', cancel)
    return
  }
  for (let i = 0; i < n && session.isConnected; i++) {
    session.push(chunkData(i), 'message', String(i))
    if (res.writableNeedDrain) await drained(res)
  }
  if (session.isConnected) session.push('{}', 'done')
  res.end()
}

function honoApp(): Hono {
  const app = new Hono()
  app.get('*', (c) =>
    streamSSE(c, async (stream) => {
      const { kind, n } = route(c.req.url)
      if (kind === 'idle') {
        await new Promise<void>((resolve) => {
          const timer = setInterval(() => void stream.write(':\n'), keepAliveMs)
          stream.onAbort(() => {
            clearInterval(timer)
            resolve()
          })
        })
      } else if (kind === 'lat') {
        await new Promise<void>((resolve) => {
          const cancel = everyMs(
            n,
            (i) => void stream.writeSSE({ id: String(i), data: timedData() }),
            resolve,
          )
          stream.onAbort(() => {
            cancel()
            resolve()
          })
        })
        await stream.writeSSE({ event: 'done', data: '{}' })
      } else {
        // `await writeSSE` is Hono's backpressure: it resolves when the stream takes the chunk.
        for (let i = 0; i < n && !stream.aborted; i++)
          await stream.writeSSE({ id: String(i), data: chunkData(i) })
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
        (i) => void stream.push({ id: String(i), data: timedData() }),
        () => void stream.push({ event: 'done', data: '{}' }).then(() => stream.close()),
      )
      stream.onClosed(cancel)
    } else {
      void (async () => {
        for (let i = 0; i < n; i++) await stream.push({ id: String(i), data: chunkData(i) })
        await stream.push({ event: 'done', data: '{}' })
        await stream.close()
      })()
    }
    return stream.send()
  })
  return app
}

function create(contender: Contender): Server {
  switch (contender) {
    case 'raw':
      return createServer(raw('none'))
    case 'raw-64k':
      return createServer(raw('bytes'))
    case 'raw-64ev':
      return createServer(raw('events'))
    case 'ours-node':
    case 'base-node':
      return createServer((req, res) => void ours(hub.node(req, res), route(req.url ?? '/')))
    case 'ours-resumable':
    case 'base-resumable':
      return resumable()
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
  }
}

/** Questions the suite asks over IPC, answered from inside the contender's own process. */
function answer(question: string): number {
  switch (question) {
    case 'cpu':
      // µs of CPU used so far; the suite takes differences around a measurement.
      return (({ user, system }) => user + system)(process.cpuUsage())
    case 'heap':
    case 'rss':
      // Two full GCs collect what earlier work left behind, so a difference is what is alive.
      globalThis.gc?.()
      globalThis.gc?.()
      return question === 'heap' ? process.memoryUsage().heapUsed : process.memoryUsage().rss
    default:
      throw new Error(`unknown question ${question}`)
  }
}

const server = create(contender)
server.listen(0, '127.0.0.1', () => {
  const address = server.address()
  process.send?.({ type: 'ready', port: typeof address === 'object' ? address?.port : 0 })
})
process.on('message', (message: { type: string; id: number }) => {
  // Asked to exit (BENCH_PROFILE): a normal exit is what makes `--cpu-prof` write its profile.
  if (message.type === 'exit') process.exit(0)
  process.send?.({ type: 'reply', id: message.id, value: answer(message.type) })
})
