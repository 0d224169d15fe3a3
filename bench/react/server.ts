// The react suite's server, a child process: the page (both hooks, bundled from source by esbuild,
// React's production build with profiling so <Profiler> counts commits), and the same answer of
// `tokens` deltas at `rate` per second two ways:
// - `POST /ours`: protocol v1 on @unbroken/server's resumable registry, for useLLMStream;
// - `POST /api/chat`: the AI SDK's UI message stream through its own Node helper
//   (`createUIMessageStream` + `pipeUIMessageStreamToResponse`), for useChat.
// With `cutAt`, the response's connection is destroyed after that many deltas: a network cut.
// Prints `{"port":N}` once listening.
import type { IncomingMessage, ServerResponse } from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'
import { createResumableStreams, type ProducerStream } from '@unbroken/server'
import { listen } from '@unbroken/test-kit'
import { createUIMessageStream, pipeUIMessageStreamToResponse } from 'ai'
import { build } from 'esbuild'
import { token } from '../payload'

/** What both endpoints are asked for. */
export interface Ask {
  readonly tokens: number
  /** Deltas per second. */
  readonly rate: number
  /** Destroy the first response's connection after this many deltas. */
  readonly cutAt?: number
}

const bundle = await build({
  entryPoints: [`${import.meta.dirname}/page.ts`],
  bundle: true,
  minify: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  write: false,
  conditions: ['@unbroken/source'],
  define: { 'process.env.NODE_ENV': '"production"' },
  // The production build that still calls <Profiler onRender> (react-dom's profiling entry);
  // esbuild resolves an alias from the working directory, hence this package's.
  alias: { 'react-dom/client': 'react-dom/profiling' },
  absWorkingDir: import.meta.dirname,
})
const script = bundle.outputFiles[0]?.text ?? ''
const page =
  '<!doctype html><meta charset="utf-8"><title>react bench</title><div id="root"></div><script type="module" src="/page.js"></script>'

/** Calls `send(i)` for every delta, `rate` per second on average: due deltas go out every 5 ms. */
async function pace(ask: Ask, send: (index: number) => unknown) {
  const started = performance.now()
  for (let sent = 0; sent < ask.tokens; ) {
    const due = Math.min(ask.tokens, Math.ceil(((performance.now() - started) * ask.rate) / 1000))
    for (; sent < due; sent++) await send(sent)
    await sleep(5)
  }
}

async function readAsk(req: IncomingMessage): Promise<Ask> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  const body = JSON.parse(Buffer.concat(chunks).toString()) as { ask?: Ask } & Ask
  // useChat's transport sends its messages with the extra `body` fields beside them.
  return body.ask ?? body
}

const streams = createResumableStreams()

async function ours(req: IncomingMessage, res: ServerResponse) {
  const ask = await readAsk(req)
  await streams.handle(req, res, async (stream: ProducerStream) => {
    const send = (event: string, data: unknown) =>
      stream.send({ event, data: JSON.stringify(data) })
    await send('meta', { streamId: stream.id, model: 'bench', upstream: 'simulated' })
    await pace(ask, async (index) => {
      await send('delta', { text: token(index) })
      if (index + 1 === ask.cutAt) res.destroy()
    })
    await send('usage', { inputTokens: 1, outputTokens: ask.tokens })
    await send('done', { finishReason: 'stop' })
  })
}

async function aiSdk(req: IncomingMessage, res: ServerResponse) {
  const ask = await readAsk(req)
  const stream = createUIMessageStream({
    execute: async ({ writer }) => {
      writer.write({ type: 'start' })
      writer.write({ type: 'text-start', id: 'text' })
      await pace(ask, (index) => {
        writer.write({ type: 'text-delta', id: 'text', delta: token(index) })
        if (index + 1 === ask.cutAt) res.destroy()
      })
      writer.write({ type: 'text-end', id: 'text' })
      writer.write({ type: 'finish' })
    },
  })
  pipeUIMessageStreamToResponse({ response: res, stream })
}

const listening = await listen((req, res) => {
  const path = new URL(req.url ?? '/', 'http://bench').pathname
  const reply = (type: string, body: string) => {
    res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' })
    res.end(body)
  }
  if (path === '/') return reply('text/html; charset=utf-8', page)
  if (path === '/page.js') return reply('text/javascript; charset=utf-8', script)
  if (path === '/api/chat') return void aiSdk(req, res)
  if (path === '/ours') return void ours(req, res)
  void streams.handle(req, res)
})
process.stdout.write(`${JSON.stringify({ port: listening.port })}\n`)
