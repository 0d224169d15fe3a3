import type { IncomingMessage, ServerResponse } from 'node:http'
import { listen } from '@unbroken/test-kit'
import { afterEach } from 'vitest'
import type { UnbrokenClientError } from '../src/errors'
import { createEventStream } from '../src/stream'
import type { EventStreamOptions } from '../src/types'

/** What the test server saw of one request. */
export interface SeenRequest {
  readonly method: string
  /** Path and query, as sent. */
  readonly path: string
  readonly headers: IncomingMessage['headers']
  readonly body: string
  /** `Last-Event-ID` decoded from the UTF-8 bytes the client sends (see the client README). */
  readonly lastEventId: string | undefined
}

export type Handler = (request: SeenRequest, res: ServerResponse, index: number) => unknown

export interface TestServer {
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  readonly origin: string
  readonly requests: SeenRequest[]
  /** Resolves once `count` requests have arrived. */
  waitForRequests(count: number): Promise<void>
  close(): Promise<void>
}

/** A real node:http server on an ephemeral 127.0.0.1 port that records every request. */
export async function startServer(handler: Handler): Promise<TestServer> {
  const requests: SeenRequest[] = []
  const waiters: Array<() => void> = []
  const server = await listen(async (req, res) => {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const raw = req.headers['last-event-id'] as string | undefined
    const seen: SeenRequest = {
      method: req.method ?? '',
      path: req.url ?? '',
      headers: req.headers,
      body: Buffer.concat(chunks).toString('utf8'),
      // Node reads header bytes as Latin-1; the client sent UTF-8 bytes.
      lastEventId: raw === undefined ? undefined : Buffer.from(raw, 'latin1').toString('utf8'),
    }
    requests.push(seen)
    for (const wake of waiters.splice(0)) wake()
    try {
      await handler(seen, res, requests.length - 1)
    } catch {
      res.destroy()
    }
  })
  return {
    origin: server.origin,
    requests,
    async waitForRequests(count) {
      while (requests.length < count) await new Promise<void>((resolve) => waiters.push(resolve))
    },
    close: server.close,
  }
}

/**
 * One loopback server per test: `start(handler)` opens it, `server` is the one running, and it is
 * closed after each test with every connection it still holds.
 */
export const useServer = () => {
  let current: TestServer | undefined
  afterEach(async () => {
    await current?.close()
    current = undefined
  })
  const start = async (handler: Handler) => {
    current = await startServer(handler)
    return current
  }
  return {
    start,
    /** Serves `handler`, reads `path` with `createEventStream` to its end and returns what came. */
    async read(handler: Handler, options: EventStreamOptions = {}, path = '/s') {
      const server = await start(handler)
      const stream = createEventStream(`${server.origin}${path}`, options)
      const { items, error } = await collect(stream)
      return { items, error: error as UnbrokenClientError | undefined, stream, server }
    },
    get server(): TestServer {
      if (!current) throw new Error('no server started in this test')
      return current
    },
  }
}

/** Starts a protocol v1 response: status 200 and the SSE headers. */
export const openStream = (res: ServerResponse, headers: Record<string, string> = {}) => {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    ...headers,
  })
  res.flushHeaders()
}

/** One event in SSE framing; multi-line data becomes several `data:` lines. */
export const formatEvent = (event: { id?: string; event?: string; data: string }): string =>
  `${event.id === undefined ? '' : `id: ${event.id}\n`}${event.event ? `event: ${event.event}\n` : ''}${event.data
    .split('\n')
    .map((line) => `data: ${line}\n`)
    .join('')}\n`

/** The terminal event of protocol v1, with the id `end`. */
export const doneEvent = formatEvent({ id: 'end', event: 'done', data: '{}' })

/** A whole protocol v1 stream that is already finished: the headers, then `done`. */
export const sendDone = (res: ServerResponse, headers?: Record<string, string>) => {
  openStream(res, headers)
  res.end(doneEvent)
}

/** Collects `unhandledRejection`s for the duration of a test file. */
export const trackUnhandledRejections = () => {
  const seen: unknown[] = []
  const listener = (reason: unknown) => seen.push(reason)
  process.on('unhandledRejection', listener)
  return { seen, stop: () => process.off('unhandledRejection', listener) }
}

/** Drains `for await` into an array; the error, if the stream failed, is returned beside it. */
export const collect = async <T>(iterable: AsyncIterable<T>) => {
  const items: T[] = []
  try {
    for await (const item of iterable) items.push(item)
    return { items, error: undefined }
  } catch (error) {
    return { items, error }
  }
}
