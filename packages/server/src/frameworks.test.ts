// The same two behaviours (a stream arrives whole; a client leaving aborts the writer) inside every
// framework the issue names, over real loopback sockets.
import { createServer, type Server } from 'node:http'
import { createServer as createHttp2Server, connect as http2Connect } from 'node:http2'
import { createAdaptorServer } from '@hono/node-server'
import { type Listening, listen, parseSse } from '@unbroken/test-kit'
import express from 'express'
import Fastify from 'fastify'
import { Hono } from 'hono'
import { afterEach, describe, expect, it } from 'vitest'
import { createEventHub } from './hub'
import { aborted, openStream } from './test-helpers'
import type { EventHub, EventWriter } from './types'

let server: Started | undefined
let closeFastify: (() => Promise<void>) | undefined
afterEach(async () => {
  await server?.close()
  await closeFastify?.()
  server = undefined
  closeFastify = undefined
})

/** What each route does with its writer, chosen by the path. */
async function produce(writer: EventWriter, path: string): Promise<void> {
  if (path.startsWith('/hold')) return
  for (let i = 0; i < 3; i++) await writer.send({ id: i, event: 'delta', data: `t${i}` })
  await writer.end()
}

const expected = [
  { id: '0', event: 'delta', data: 't0' },
  { id: '1', event: 'delta', data: 't1' },
  { id: '2', event: 'delta', data: 't2' },
  { event: 'done', data: '{}' },
]

/** A Fetch-style route handler, `Request` in and `Response` out, as Next.js app routes are. */
function routeHandler(hub: EventHub, onWriter: (writer: EventWriter) => void) {
  return async (request: Request): Promise<Response> => {
    const { response, writer } = hub.web(request)
    onWriter(writer)
    void produce(writer, new URL(request.url).pathname)
    return response
  }
}

/** What a test needs of a started framework: where it listens, and how to stop it. */
type Started = Pick<Listening, 'origin' | 'close'>
type Start = (hub: EventHub, onWriter: (writer: EventWriter) => void) => Promise<Started>

const frameworks: Record<string, Start> = {
  'node:http': (hub, onWriter) =>
    listen((req, res) => {
      const writer = hub.node(req, res)
      onWriter(writer)
      void produce(writer, req.url ?? '/')
    }),
  'Express 5': (hub, onWriter) => {
    const app = express()
    app.get('/{*path}', (req, res) => {
      const writer = hub.node(req, res)
      onWriter(writer)
      void produce(writer, req.path)
    })
    return listen(createServer(app))
  },
  'Fastify 5': async (hub, onWriter) => {
    const app = Fastify()
    app.get('/*', (request, reply) => {
      // Fastify must not touch a response the writer owns.
      reply.hijack()
      const writer = hub.node(request.raw, reply.raw)
      onWriter(writer)
      void produce(writer, request.url)
    })
    await app.listen({ port: 0, host: '127.0.0.1' })
    closeFastify = () => app.close()
    const address = app.server.address()
    if (address === null || typeof address === 'string') throw new Error('no port')
    return { origin: `http://127.0.0.1:${address.port}`, close: async () => {} }
  },
  'Hono on @hono/node-server': (hub, onWriter) => {
    const app = new Hono()
    app.get('*', (c) => {
      const { response, writer } = hub.web(c.req.raw)
      onWriter(writer)
      void produce(writer, c.req.path)
      return response
    })
    return listen(createAdaptorServer({ fetch: app.fetch }) as Server)
  },
  'Fetch route handler': (hub, onWriter) =>
    listen(createAdaptorServer({ fetch: routeHandler(hub, onWriter) }) as Server),
}

describe.each(Object.entries(frameworks))('%s', (_name, start) => {
  it('delivers every event and the terminal done', async () => {
    server = await start(createEventHub(), () => {})
    const body = await (await openStream(`${server.origin}/stream`)).ended()
    expect(parseSse(body)).toEqual(expected)
  })

  it('aborts the writer when the client disconnects', async () => {
    let writer: EventWriter | undefined
    server = await start(createEventHub(), (w) => {
      writer = w
    })
    const client = await openStream(`${server.origin}/hold`)
    await client.waitFor('retry:')
    client.destroy()
    expect(await aborted((writer as EventWriter).signal)).toBe('client-closed')
  })
})

describe('HTTP/2 (node:http2 compatibility API)', () => {
  it('streams without connection-specific headers and ends with done', async () => {
    const hub = createEventHub()
    const h2 = await listen(
      createHttp2Server((req, res) => void produce(hub.node(req, res), req.url)),
    )
    const session = http2Connect(h2.origin)
    const stream = session.request({ ':path': '/stream' })
    const [headers, body] = await Promise.all([
      new Promise<Record<string, unknown>>((resolve) => stream.on('response', resolve)),
      new Promise<string>((resolve) => {
        let text = ''
        stream.setEncoding('utf8')
        stream.on('data', (chunk: string) => {
          text += chunk
        })
        stream.on('end', () => resolve(text))
      }),
    ])
    session.close()
    await h2.close()
    expect(headers[':status']).toBe(200)
    expect(headers['content-type']).toBe('text/event-stream; charset=utf-8')
    expect(headers.connection).toBeUndefined()
    expect(parseSse(body)).toEqual(expected)
  })
})
