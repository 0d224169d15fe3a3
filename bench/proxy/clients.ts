// The proxy suite's clients: each opens one stream on one path and records, for every stamped
// token it reads, the time from the upstream's write to its own read, over real loopback sockets.
import { request } from 'node:http'
import { nowUs, STAMP } from './stamp'

/** A path under test: where to send the request and in which shape. */
export interface Path {
  readonly port: number
  /** `openai`: the upstream's own chat-completions request; `native`: the proxy's `/v1/streams`. */
  readonly shape: 'openai' | 'native'
}

/** What one stream delivered. */
export interface StreamResult {
  /** Request sent → first token read, in ms. */
  readonly ttftMs: number
  /** Upstream write → client read, per token, in ms. */
  readonly latenciesMs: number[]
  /** Tokens read. */
  readonly tokens: number
  /** Tokens that arrived out of order or twice. */
  readonly misordered: number
  /** Whether the stream ended with its end marker (`[DONE]`, or `event: done`). */
  readonly complete: boolean
}

const body = (path: Path, tokens: number, perSecond: number) =>
  JSON.stringify(
    path.shape === 'openai'
      ? {
          model: `bench-${perSecond}`,
          max_tokens: tokens,
          stream: true,
          messages: [{ role: 'user', content: 'bench' }],
        }
      : {
          model: `bench-${perSecond}`,
          maxTokens: tokens,
          messages: [{ role: 'user', content: 'bench' }],
        },
  )

// Each shape's end marker; it follows the last token, so it is in the unconsumed tail.
const END_MARKER = { openai: 'data: [DONE]', native: 'event: done' } as const

/** Streams `tokens` tokens paced at `perSecond` (0: as fast as possible) and measures each one. */
export function readStream(path: Path, tokens: number, perSecond: number): Promise<StreamResult> {
  return new Promise((resolve, reject) => {
    const sent = nowUs()
    const latenciesMs: number[] = []
    let ttftMs = Number.NaN
    let expected = 0
    let misordered = 0
    let complete = false
    let text = ''
    const req = request(
      {
        host: '127.0.0.1',
        port: path.port,
        method: 'POST',
        path: path.shape === 'openai' ? '/v1/chat/completions' : '/v1/streams',
        headers: { 'content-type': 'application/json' },
        agent: false,
      },
      (res) => {
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => {
          const arrived = nowUs()
          // Keep only a tail that may hold the start of a stamp cut by the chunk boundary.
          text = text.slice(-32) + chunk
          STAMP.lastIndex = 0
          let consumed = 0
          for (let match = STAMP.exec(text); match; match = STAMP.exec(text)) {
            const index = Number(match[1])
            if (index !== expected) misordered += 1
            expected = index + 1
            if (Number.isNaN(ttftMs)) ttftMs = (arrived - sent) / 1000
            latenciesMs.push((arrived - Number(match[2])) / 1000)
            consumed = STAMP.lastIndex
          }
          text = text.slice(consumed)
          complete ||= text.includes(END_MARKER[path.shape])
        })
        res.on('end', () =>
          resolve({ ttftMs, latenciesMs, tokens: latenciesMs.length, misordered, complete }),
        )
        res.on('error', reject)
      },
    )
    req.on('error', reject)
    req.end(body(path, tokens, perSecond))
  })
}
