// A simulated OpenAI-compatible upstream for the proxy suite: `POST /v1/chat/completions` streams
// `max_tokens` chat-completion chunks (the payload module's), each token stamped with the time it
// was written (µs, CLOCK_MONOTONIC, comparable across processes on one Linux host), then usage and
// `[DONE]`. The model name sets the pace: `bench-50` is 50 tokens/s, `bench-0` as fast as
// backpressure allows. Prints `{"port","pid"}` on its first line (the test kit's startChild reads it).
import { createServer, type ServerResponse } from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'
import { chatCompletionChunk, token } from '../payload'
import { nowUs, stampOf } from './stamp'

async function stream(res: ServerResponse, tokens: number, perSecond: number): Promise<void> {
  let open = true
  res.once('close', () => (open = false))
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
  const started = performance.now()
  for (let i = 0; i < tokens && open; i++) {
    if (perSecond > 0) {
      const wait = started + (i * 1000) / perSecond - performance.now()
      if (wait > 0) await sleep(wait)
    }
    const chunk = chatCompletionChunk(i)
    const choice = chunk.choices[0] as { delta: { content: string } }
    choice.delta.content = `${token(i)}${stampOf(i, nowUs())}`
    if (!res.write(`data: ${JSON.stringify(chunk)}\n\n`)) await drained(res)
  }
  if (!open) return
  const { id, object, created, model } = chatCompletionChunk(0)
  const finish = {
    id,
    object,
    created,
    model,
    choices: [{ index: 0, delta: {}, finish_reason: 'stop' }],
  }
  const usage = {
    id,
    object,
    created,
    model,
    choices: [],
    usage: { prompt_tokens: 9, completion_tokens: tokens, total_tokens: tokens + 9 },
  }
  res.end(`data: ${JSON.stringify(finish)}\n\ndata: ${JSON.stringify(usage)}\n\ndata: [DONE]\n\n`)
}

/** Drain raced against close, both listeners removed after. */
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

const server = createServer((req, res) => {
  let body = ''
  req.setEncoding('utf8')
  req.on('data', (chunk: string) => (body += chunk))
  req.on('end', () => {
    const { model, max_tokens } = JSON.parse(body) as { model: string; max_tokens: number }
    void stream(res, max_tokens, Number(model.replace('bench-', '')))
  })
})
server.listen(0, '127.0.0.1', () => {
  const address = server.address() as { port: number }
  console.log(JSON.stringify({ port: address.port, pid: process.pid }))
})
