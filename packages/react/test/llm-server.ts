/**
 * A real protocol v1 LLM stream server on 127.0.0.1 for the hook tests: `@unbroken/server`'s
 * resumable registry, with a producer that writes what the POST body asks for (`meta`, `delta`s,
 * `usage`, `done`), and what a test needs to see and steer from the server's side.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import {
  createEventHub,
  createMemoryEventLog,
  createResumableStreams,
  type ProducerStream,
} from '@unbroken/server'
import { createFaultProxy, listen } from '@unbroken/test-kit'

/** What a test POSTs: the producer writes `tokens` deltas, `pauseMs` apart. */
export interface ProduceRequest {
  readonly tokens: number
  readonly pauseMs?: number
  /** Waits this long before the first token (a prefill). */
  readonly prefillMs?: number
  /** Writes this many tokens, then waits for `release()`. */
  readonly holdAfter?: number
  /** Ends with an `error` event after the tokens instead of `done`. */
  readonly fail?: boolean
}

export interface SeenRequest {
  readonly method: string
  readonly path: string
  readonly lastEventId: string | undefined
  readonly authorization: string | undefined
  readonly idempotencyKey: string | undefined
}

export interface LLMServer {
  readonly origin: string
  /** The native endpoint: `POST` starts a stream. */
  readonly api: string
  readonly requests: SeenRequest[]
  /** Stream connections (POST or GET) open right now. */
  readonly openConnections: number
  /** Each stream's URL, in the order the POSTs started them. */
  readonly streams: string[]
  /** Why each producer stopped early, by stream id (`cancelled` after a DELETE). */
  readonly stopped: Map<string, unknown>
  /** Lets every producer waiting at `holdAfter` go on. */
  release(): void
  /** Destroys every open stream connection mid-flight, as a network cut does. */
  cut(): void
  /** Accepts `Bearer <token>` for `user`; from the first token on, anonymous calls get 401. */
  issueToken(token: string, user?: string): void
  revokeToken(token: string): void
  close(): Promise<void>
}

export const tokenText = (index: number) => `w${index} `

/** The text a stream of `count` tokens shows. */
export const expectedText = (count: number) =>
  Array.from({ length: count }, (_, index) => tokenText(index)).join('')

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export async function startLLMServer({ keepAliveMs = 0 } = {}): Promise<LLMServer> {
  const requests: SeenRequest[] = []
  const connections = new Set<ServerResponse>()
  const stopped = new Map<string, unknown>()
  const started: string[] = []
  const tokens = new Map<string, string>()
  let authOn = false
  let release: () => void = () => {}
  let released = new Promise<void>((resolve) => {
    release = resolve
  })
  const streams = createResumableStreams({
    log: createMemoryEventLog({ ttlMs: 60_000 }),
    hub: createEventHub({ keepAliveMs, retryMs: 10 }),
    principal: (request) => {
      if (!authOn) return undefined
      return tokens.get(request.header('authorization')?.replace(/^Bearer /, '') ?? '')
    },
    authorize: ({ action, principal, owner }) =>
      !authOn || (principal !== undefined && (action === 'create' || principal === owner)),
  })

  const produce = async (stream: ProducerStream, req: IncomingMessage) => {
    started.push(`${listening.origin}/streams/${stream.id}`)
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const ask = JSON.parse(Buffer.concat(chunks).toString() || '{}') as ProduceRequest
    const send = (event: string, data: unknown) =>
      stream.send({ event, data: JSON.stringify(data) })
    stream.signal.addEventListener('abort', () => stopped.set(stream.id, stream.signal.reason))
    await send('meta', { streamId: stream.id, model: 'test', upstream: 'loopback' })
    if (ask.prefillMs) await sleep(ask.prefillMs)
    for (let index = 0; index < ask.tokens; index++) {
      if (stream.signal.aborted) return
      if (index === ask.holdAfter) await released
      await send('delta', { text: tokenText(index) })
      if (ask.pauseMs) await sleep(ask.pauseMs)
    }
    await send('usage', { inputTokens: 3, outputTokens: ask.tokens })
    if (ask.fail) {
      const error = {
        code: 'upstream-truncated',
        message: 'The upstream broke off',
        retryable: false,
      }
      await send('error', error)
    } else await send('done', { finishReason: 'stop' })
  }

  const listening = await listen((req, res) => {
    const raw = req.headers['last-event-id']
    requests.push({
      method: req.method ?? '',
      path: req.url ?? '',
      lastEventId: raw === undefined ? undefined : String(raw),
      authorization: req.headers.authorization,
      idempotencyKey: req.headers['idempotency-key'] as string | undefined,
    })
    if (!req.url?.startsWith('/streams')) {
      res.writeHead(404, { 'content-type': 'application/json' })
      res.end('{"code":"unknown-stream","message":"No such endpoint","retryable":false}')
      return
    }
    if (req.method === 'POST' || req.method === 'GET') {
      connections.add(res)
      res.on('close', () => connections.delete(res))
    }
    void streams.handle(req, res, (stream) => produce(stream, req))
  })
  const { origin } = listening
  return {
    origin,
    api: `${origin}/streams`,
    requests,
    streams: started,
    get openConnections() {
      return connections.size
    },
    stopped,
    release() {
      release()
      released = new Promise<void>((resolve) => {
        release = resolve
      })
    },
    cut() {
      for (const res of connections) res.destroy()
    },
    issueToken(token, user = 'user') {
      authOn = true
      tokens.set(token, user)
    },
    revokeToken(token) {
      tokens.delete(token)
    },
    async close() {
      release()
      await streams.close()
      await listening.close()
    },
  }
}

/**
 * A fault proxy in front of `server` that holds back the answer to the first request (the server
 * has started the stream; the page has not heard of it) until `release()`, as a slow network does.
 */
export async function holdFirstAnswer(server: LLMServer) {
  const proxy = await createFaultProxy({
    targetPort: Number(new URL(server.origin).port),
    plan: ({ index }) => (index === 0 ? { stallAt: 0 } : {}),
  })
  return {
    api: `${proxy.origin}/streams`,
    release: () => proxy.connections[0]?.release(),
    /** Cuts the held connection: its request fails with no answer at all. */
    cut: () => proxy.connections[0]?.cutNow(),
    /** The held connection is gone on both sides (the page has seen its request fail). */
    get closed() {
      return proxy.connections[0]?.closed ?? false
    },
    close: proxy.close,
  }
}
