import type { RequestListener } from 'node:http'
import { getRequestListener } from '@hono/node-server'
import { type Listening, listen } from '@unbroken/test-kit'
import { createSession } from 'better-sse'
import { EventStream, H3 } from 'h3'
import { toNodeHandler } from 'h3/node'
import { Hono } from 'hono'
import { streamSSE } from 'hono/streaming'
import type { ComparableEvent } from '../support/compare'
import { CANONICAL_EVENTS } from '../support/events'

/** A peer SSE server and exactly what a spec reader must get from it. */
export type Peer = Listening & {
  readonly url: string
  readonly expected: readonly ComparableEvent[]
  /** Requests the peer has answered, to tell one clean read from a silent reconnect. */
  readonly requests: () => number
}

/** Serves `handler` and counts its requests. */
export async function startPeer(
  handler: RequestListener,
  path: string,
  expected: readonly ComparableEvent[],
): Promise<Peer> {
  const server = await listen(handler)
  let requests = 0
  server.server.on('request', () => requests++)
  return { ...server, url: `${server.origin}${path}`, expected, requests: () => requests }
}

// Peers omit `event:` for the default type, as their users would.
const eventField = (type: string) => (type === 'message' ? undefined : type)

/** better-sse serialises data as JSON by default, which is how it is meant to be used. */
export function startBetterSse(): Promise<Peer> {
  const expected = CANONICAL_EVENTS.map((e) => ({
    ...e,
    data: e.type === 'done' ? '{}' : JSON.stringify(e.data),
  }))
  return startPeer(
    async (req, res) => {
      const session = await createSession(req, res, { keepAlive: null, retry: null })
      for (const { type, id, data } of CANONICAL_EVENTS) {
        session.push(type === 'done' ? {} : data, type, id)
      }
      res.end()
    },
    '/sse',
    expected,
  )
}

export function startHono(): Promise<Peer> {
  const app = new Hono()
  app.get('/sse', (c) =>
    streamSSE(c, async (stream) => {
      for (const { type, id, data } of CANONICAL_EVENTS) {
        await stream.writeSSE({ id, event: eventField(type), data })
      }
    }),
  )
  return startPeer(getRequestListener(app.fetch), '/sse', CANONICAL_EVENTS)
}

export function startH3(): Promise<Peer> {
  const app = new H3()
  app.get('/sse', (event) => {
    const stream = new EventStream(event)
    void (async () => {
      for (const { type, id, data } of CANONICAL_EVENTS) {
        await stream.push({ id, event: eventField(type), data })
      }
      await stream.close()
    })()
    return stream
  })
  return startPeer(toNodeHandler(app), '/sse', CANONICAL_EVENTS)
}
