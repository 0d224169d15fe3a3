import type { RequestListener } from 'node:http'
import {
  createEventStream,
  type EventStreamOptions,
  type EventStreamSnapshot,
  type ServerSentEvent,
  UnbrokenClientError,
} from '@unbroken/client'
import { type Listening, listen } from '@unbroken/test-kit'
import { afterEach, expect } from 'vitest'

/** How a read of a hostile server ended: what came, and the error or `done`. */
export interface Outcome {
  readonly events: ServerSentEvent[]
  readonly error: UnbrokenClientError | undefined
  readonly snapshot: EventStreamSnapshot
  /** Each retried failure's code, in order. */
  readonly retried: string[]
}

/**
 * One hostile loopback server per test, closed after it with every connection it holds; `read`
 * reads it with the client and checks the promise every hostile server is held to: the read ends
 * (bounded), in `done` or a typed error, with no event delivered twice.
 */
export const createHostileServer = () => {
  let current: Listening | undefined
  afterEach(async () => {
    await current?.close()
    current = undefined
  })
  return {
    async start(handler: RequestListener): Promise<Listening> {
      current = await listen(handler)
      return current
    },
    async read(
      handler: RequestListener,
      options: EventStreamOptions = {},
      { path = '/s', timeoutMs = 15_000 } = {},
    ): Promise<Outcome> {
      const server = await this.start(handler)
      const retried: string[] = []
      const stream = createEventStream(`${server.origin}${path}`, {
        backoff: { initialMs: 0 },
        maxAttempts: 3,
        ...options,
        onReconnect: (info) => {
          retried.push(info.error.code)
          options.onReconnect?.(info)
        },
      })
      const timer = setTimeout(() => stream.close(), timeoutMs)
      const events: ServerSentEvent[] = []
      let error: unknown
      try {
        for await (const event of stream) events.push(event)
      } catch (thrown) {
        error = thrown
      } finally {
        clearTimeout(timer)
      }
      const snapshot = stream.getSnapshot()
      expect(snapshot.closeReason, `no end within ${timeoutMs} ms`).not.toBe('aborted')
      if (error !== undefined) expect(error).toBeInstanceOf(UnbrokenClientError)
      else expect(snapshot.closeReason).toBe('done')
      // A repeat is the same id with the same data (an event without an id keeps the last one).
      const keys = events.map((event) => `${event.lastEventId}\n${event.data}`)
      expect(new Set(keys).size, `an event delivered twice: ${keys}`).toBe(keys.length)
      return {
        events,
        error: error instanceof UnbrokenClientError ? error : undefined,
        snapshot,
        retried,
      }
    },
  }
}

/** Starts a protocol v1 answer: status 200 and the SSE headers, flushed. */
export const openSse = (
  res: Parameters<RequestListener>[1],
  headers: Record<string, string> = {},
) => {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', ...headers })
  res.flushHeaders()
}

/** Events `from`..`to` with ids and data `e<id>`, in SSE framing. */
export const numbered = (from: number, to: number): string => {
  let wire = ''
  for (let id = from; id <= to; id++) wire += `id: ${id}\ndata: e${id}\n\n`
  return wire
}

/** Protocol v1's terminal event. */
export const DONE = 'id: end\nevent: done\ndata: {}\n\n'
