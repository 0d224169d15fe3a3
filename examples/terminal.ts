// `pnpm demo`: a simulated model streams an answer through a resumable stream; the network drops
// the connection twice mid-sentence, and the client resumes from its last event id. What it prints
// is checked against what the model produced: no token lost, none repeated.
import { createServer, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createEventStream } from '@unbroken/client'
import { createResumableStreams } from '@unbroken/server'

const ANSWER =
  'Server-Sent Events look simple until a proxy buffers them, a phone changes networks, or a ' +
  'token expires mid-answer. Unbroken gives every event an id, keeps the stream in a log, and ' +
  'resumes from the last event the reader saw — so déjà vu never shows twice, and 日本語 or 🚀 ' +
  'survive any split.'
const TOKENS = ANSWER.match(/\S+\s*/g) ?? []
const TOKEN_INTERVAL_MS = 40 // the simulated model's pace, so the cuts land mid-answer
const CUT_AFTER_MS = [600, 1500] // when the "network" drops the connection currently streaming

const dim = (text: string) => (process.stdout.isTTY ? `\x1b[2m${text}\x1b[22m` : text)
const streams = createResumableStreams({ basePath: '/chat' })

// Each connection that is still open at the next cut time is dropped, like a flaky network would.
const openResponses = new Set<ServerResponse>()
for (const delay of CUT_AFTER_MS) {
  setTimeout(() => {
    for (const res of openResponses) res.socket?.destroy()
  }, delay).unref()
}

const server = createServer((req, res) => {
  openResponses.add(res)
  res.on('close', () => openResponses.delete(res))
  void streams.handle(req, res, async (stream) => {
    for (const token of TOKENS) {
      if (stream.signal.aborted) return
      await stream.send({ event: 'delta', data: token })
      await new Promise((resolve) => setTimeout(resolve, TOKEN_INTERVAL_MS))
    }
  })
})
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
const { port } = server.address() as AddressInfo

console.log(dim(`simulated model on http://127.0.0.1:${port}/chat\n`))
let received = ''
const stream = createEventStream(`http://127.0.0.1:${port}/chat`, {
  method: 'POST',
  body: JSON.stringify({ prompt: 'Why do streams break?' }),
  onReconnect: ({ error }) =>
    process.stdout.write(
      dim(` ⟳[${error.code}, resuming after id ${stream.getSnapshot().lastEventId}…] `),
    ),
})
for await (const event of stream) {
  if (event.type !== 'delta') continue
  received += event.data
  process.stdout.write(event.data)
}

const { reconnects, events } = stream.getSnapshot()
const intact = received === ANSWER
console.log(
  `\n\n${dim(`${events} events, ${reconnects} reconnects, text ${intact ? 'intact' : 'CORRUPTED'}`)}`,
)
await streams.close()
server.close()
process.exitCode = intact ? 0 : 1
