// The proxy suite's clients: each opens one stream on one path and records, for every stamped
// token it reads, the time from the upstream's write to its own read, over real loopback sockets.
import { request } from 'node:http'
import { nowUs, STAMP } from './stamp'

/** A path under test: where to send the request and in which shape. */
export interface Path {
  readonly port: number
  /**
   * `openai`: the upstream's own chat-completions request; `native`: the proxy's `/v1/streams`;
   * `anthropic`: the proxy's Messages endpoint, `/v1/messages`.
   */
  readonly shape: Shape
}

/** The request and wire format a path speaks. */
export type Shape = 'openai' | 'native' | 'anthropic'

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
  /** Whether the stream ended with its end marker (`[DONE]`, `event: done`, `event: message_stop`). */
  readonly complete: boolean
  /** The answer's HTTP status; a refused stream says why in `refusal`. */
  readonly status: number
  /** The start of a non-200 answer's body, or the socket error that cut the stream. */
  readonly refusal: string | undefined
}

// The model name sets the bench upstream's pace; every shape asks for `tokens` tokens.
const body = (shape: Shape, tokens: number, perSecond: number) => {
  const model = `bench-${perSecond}`
  const messages = [{ role: 'user', content: 'bench' }]
  return JSON.stringify(
    shape === 'native'
      ? { model, maxTokens: tokens, messages }
      : { model, max_tokens: tokens, stream: true, messages },
  )
}

const TAIL_CHARS = 200

const PATH = { openai: '/v1/chat/completions', native: '/v1/streams', anthropic: '/v1/messages' }
// Each shape's end marker; it follows the last token, so it is in the unconsumed tail.
const END_MARKER = {
  openai: 'data: [DONE]',
  native: 'event: done',
  anthropic: 'event: message_stop',
} as const

/** Streams `tokens` tokens paced at `perSecond` (0: as fast as possible) and measures each one. */
export function readStream(path: Path, tokens: number, perSecond: number): Promise<StreamResult> {
  return new Promise((resolve) => {
    const sent = nowUs()
    const latenciesMs: number[] = []
    let ttftMs = Number.NaN
    let expected = 0
    let misordered = 0
    let complete = false
    let text = ''
    let status = 0
    let refusal: string | undefined
    // The end of the body, to say how a stream without its end marker ended.
    let last = ''
    // A stream refused, cut or never connected is counted as lost, with why; the round goes on.
    const settle = (error?: Error) =>
      resolve({
        ttftMs,
        latenciesMs,
        tokens: latenciesMs.length,
        misordered,
        complete: complete && error === undefined,
        status,
        refusal:
          error !== undefined
            ? describe(error)
            : (refusal ?? (complete ? undefined : `no end marker; the body ended with ${last}`)),
      })
    const req = request(
      {
        host: '127.0.0.1',
        port: path.port,
        method: 'POST',
        path: PATH[path.shape],
        headers: { 'content-type': 'application/json' },
        agent: false,
      },
      (res) => {
        res.setEncoding('utf8')
        status = res.statusCode ?? 0
        res.on('data', (chunk: string) => {
          if (status !== 200) {
            refusal = `${refusal ?? ''}${chunk}`.slice(0, 300)
            return
          }
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
          last = (last + chunk).slice(-TAIL_CHARS)
        })
        res.on('end', () => settle())
        res.on('error', settle)
      },
    )
    req.on('error', settle)
    req.end(body(path.shape, tokens, perSecond))
  })
}

const describe = (error: Error) => (error as { code?: string }).code ?? error.message
