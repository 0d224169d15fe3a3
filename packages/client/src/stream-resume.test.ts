import type { ServerResponse } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import {
  collect,
  formatEvent,
  type Handler,
  openStream,
  sendDone,
  startServer,
  type TestServer,
  useServer,
} from '../test/server'
import { createEventStream } from './stream'
import type { EventStreamOptions } from './types'

const loopback = useServer()

const run = async (handler: Handler, options: EventStreamOptions = {}) => {
  const result = await loopback.read(
    handler,
    { backoff: { initialMs: 0 }, ...options },
    '/api/chat',
  )
  const requests = result.server.requests.map((request) => `${request.method} ${request.path}`)
  return { ...result, requests }
}

// First connection: one event, then the socket dies mid-way through the next one.
const dropAfterOne = (res: ServerResponse, headers: Record<string, string> = {}) => {
  openStream(res, headers)
  res.write(`${formatEvent({ id: '1', data: 'a' })}data: half`, () => res.destroy())
}

describe('POST streams', () => {
  it('resume with a GET of Content-Location and never re-send the body', async () => {
    const { items, requests, stream } = await run(
      (_, res, index) =>
        index === 0 ? dropAfterOne(res, { 'content-location': 'streams/42' }) : sendDone(res),
      { method: 'POST', body: '{"prompt":"hi"}' },
    )
    expect(requests).toEqual(['POST /api/chat', 'GET /api/streams/42'])
    expect(loopback.server.requests[0]?.body).toBe('{"prompt":"hi"}')
    expect(loopback.server.requests[1]?.body).toBe('')
    expect(loopback.server.requests[1]?.lastEventId).toBe('1')
    expect(items.map((event) => event.data)).toEqual(['a', '{}'])
    expect(stream.url).toBe(`${loopback.server.origin}/api/streams/42`)
  })

  it('fail with resume-failed instead of re-POSTing when there is no Content-Location', async () => {
    const { items, error, requests } = await run((_, res) => dropAfterOne(res), { method: 'POST' })
    expect(items.map((event) => event.data)).toEqual(['a'])
    expect(error).toMatchObject({ code: 'resume-failed', cause: { code: 'network' } })
    expect(requests).toEqual(['POST /api/chat'])
  })

  it('fail with network, saying nothing ran twice, when a keyless POST got no response', async () => {
    const { error, requests } = await run((_, res) => res.destroy(), {
      method: 'POST',
      idempotencyKey: false,
    })
    expect(error).toMatchObject({ code: 'network', status: undefined, cause: { code: 'network' } })
    expect(error?.message).toMatch(/not sent again, so nothing ran twice/)
    // fetch's own 'fetch failed' says nothing; the socket's reason is in the message too.
    expect(error?.message).toMatch(/^TypeError: fetch failed \(.+\); not sent again/)
    expect(requests).toEqual(['POST /api/chat'])
  })

  it('re-POST when the server said it did not process the request (503)', async () => {
    const { items, requests } = await run(
      (_, res, index) => (index === 0 ? res.writeHead(503).end() : sendDone(res)),
      { method: 'POST', body: 'x' },
    )
    expect(requests).toEqual(['POST /api/chat', 'POST /api/chat'])
    expect(loopback.server.requests[1]?.body).toBe('x')
    expect(items).toHaveLength(1)
  })

  it('resume at resumeUrl when the response has no Content-Location', async () => {
    const { requests } = await run(
      (_, res, index) => (index === 0 ? dropAfterOne(res) : sendDone(res)),
      { method: 'POST', resumeUrl: '/api/chat/abc' },
    )
    expect(requests).toEqual(['POST /api/chat', 'GET /api/chat/abc'])
  })

  it('re-POST only when shouldRetry opts in', async () => {
    const { requests } = await run(
      (_, res, index) => (index === 0 ? dropAfterOne(res) : sendDone(res)),
      { method: 'POST', shouldRetry: (context) => context.error.code === 'resume-failed' && 0 },
    )
    expect(requests).toEqual(['POST /api/chat', 'POST /api/chat'])
  })
})

describe('the resume id', () => {
  it('starts from the lastEventId option', async () => {
    await run((_, res) => sendDone(res), { lastEventId: '41' })
    expect(loopback.server.requests[0]?.lastEventId).toBe('41')
  })

  it('is the id of the last completed block, not of a block cut in half', async () => {
    await run((_, res, index) => {
      if (index === 1) return sendDone(res)
      openStream(res)
      res.write(`${formatEvent({ id: '1', data: 'a' })}id: 2\ndata: b`, () => res.destroy())
    })
    expect(loopback.server.requests[1]?.lastEventId).toBe('1')
  })

  it('moves with an id-only block', async () => {
    await run((_, res, index) => {
      if (index === 1) return sendDone(res)
      openStream(res)
      res.end(`${formatEvent({ id: '1', data: 'a' })}id: 2\n\n`)
    })
    expect(loopback.server.requests[1]?.lastEventId).toBe('2')
  })

  it.each(['é', '日本-7', '😀', 'ÿ\u0100', 'a'.repeat(4000)])(
    'survives the header round trip for %s',
    async (id) => {
      const { items } = await run((_, res, index) => {
        if (index === 1) return sendDone(res)
        openStream(res)
        res.end(formatEvent({ id, data: 'a' }))
      })
      expect(loopback.server.requests[1]?.lastEventId).toBe(id)
      expect(items.map((event) => event.data)).toEqual(['a', '{}'])
    },
  )

  it('goes in the query parameter instead of the header when asked', async () => {
    await run(
      (_, res, index) => {
        if (index === 1) return sendDone(res)
        openStream(res)
        res.end(formatEvent({ id: '日 7', data: 'a' }))
      },
      { lastEventIdQueryParam: 'lastEventId' },
    )
    const resumed = loopback.server.requests[1]
    expect(new URL(resumed?.path ?? '', 'http://x').searchParams.get('lastEventId')).toBe('日 7')
    expect(resumed?.lastEventId).toBeUndefined()
  })

  it('is published in the snapshot', async () => {
    const { stream } = await run((_, res) => {
      openStream(res)
      res.end(`${formatEvent({ id: '5', data: 'a' })}${formatEvent({ event: 'done', data: '' })}`)
    })
    expect(stream.getSnapshot().lastEventId).toBe('5')
  })
})

describe('GET streams', () => {
  it('resume at the same URL with Last-Event-ID', async () => {
    const { requests, stream } = await run((_, res, index) =>
      index === 0 ? dropAfterOne(res) : sendDone(res),
    )
    expect(requests).toEqual(['GET /api/chat', 'GET /api/chat'])
    expect(loopback.server.requests[1]?.lastEventId).toBe('1')
    expect(stream.getSnapshot().reconnects).toBe(1)
  })
})

describe('a Content-Location on another origin', () => {
  // Serves the resume on another port, which is another origin.
  let elsewhere: TestServer | undefined
  afterEach(async () => {
    await elsewhere?.close()
    elsewhere = undefined
  })

  // The stream's own server drops after one event and names a resume URL on `elsewhere`.
  const pointElsewhere = async (options: (origin: string) => EventStreamOptions) => {
    const other = await startServer((_, res) => sendDone(res))
    elsewhere = other
    return run(
      (_, res) => dropAfterOne(res, { 'content-location': `${other.origin}/streams/42` }),
      { method: 'POST', headers: { authorization: 'Bearer secret' }, ...options(other.origin) },
    )
  }

  it('is not followed, so the credentials never go there', async () => {
    const { error, requests } = await pointElsewhere(() => ({}))
    expect(elsewhere?.requests).toEqual([])
    expect(requests).toEqual(['POST /api/chat'])
    expect(error).toMatchObject({ code: 'resume-failed' })
    expect(error?.message).toMatch(/same-origin Content-Location.*resumeOrigins/)
  })

  it('is followed, with the headers, when resumeOrigins names that origin', async () => {
    const { items, error } = await pointElsewhere((origin) => ({ resumeOrigins: [`${origin}/`] }))
    expect(error).toBeUndefined()
    expect(items.map((event) => event.data)).toEqual(['a', '{}'])
    expect(elsewhere?.requests.map((request) => request.headers.authorization)).toEqual([
      'Bearer secret',
    ])
  })

  it('is not followed to the same host and port over another scheme', async () => {
    const { error, requests } = await run(
      (_, res) => {
        const { host } = new URL(loopback.server.origin)
        dropAfterOne(res, { 'content-location': `https://${host}/streams/42` })
      },
      { method: 'POST' },
    )
    expect(requests).toEqual(['POST /api/chat'])
    expect(error).toMatchObject({ code: 'resume-failed' })
  })

  it('is resolved against the URL that answered, after a redirect', async () => {
    // The stream's own server redirects the POST to `elsewhere`, which names a relative URL.
    const other = await startServer((request, res) =>
      request.method === 'POST'
        ? dropAfterOne(res, { 'content-location': '/streams/42' })
        : sendDone(res),
    )
    elsewhere = other
    const { items, error, requests } = await run(
      (_, res) => res.writeHead(307, { location: `${other.origin}/api/chat` }).end(),
      { method: 'POST', resumeOrigins: [other.origin] },
    )
    expect(error).toBeUndefined()
    expect(items.map((event) => event.data)).toEqual(['a', '{}'])
    expect(requests).toEqual(['POST /api/chat'])
    expect(other.requests.map((request) => `${request.method} ${request.path}`)).toEqual([
      'POST /api/chat',
      'GET /streams/42',
    ])
  })

  it('leaves a GET stream resuming at its own URL', async () => {
    const { requests } = await run((_, res, index) =>
      index === 0
        ? dropAfterOne(res, { 'content-location': 'http://elsewhere.invalid/streams/42' })
        : sendDone(res),
    )
    expect(requests).toEqual(['GET /api/chat', 'GET /api/chat'])
  })
})

describe('Idempotency-Key', () => {
  const keysOf = (server: TestServer) =>
    server.requests.map((request) => request.headers['idempotency-key'])

  it('goes with a POST, the same on every re-send, and never with a resume', async () => {
    const { items } = await run(
      (_, res, index) => {
        if (index === 0) return res.writeHead(503).end()
        if (index === 1) return dropAfterOne(res, { 'content-location': 'streams/42' })
        sendDone(res)
      },
      { method: 'POST', body: 'x' },
    )
    const [first, resent, resumed] = keysOf(loopback.server)
    expect(first).toMatch(/^[\w-]{22}$/)
    expect(resent).toBe(first)
    expect(resumed).toBeUndefined()
    expect(items).toHaveLength(2)
  })

  it('differs between two streams', async () => {
    const server = await loopback.start((_, res) => sendDone(res))
    for (let i = 0; i < 2; i++) await collect(createEventStream(server.origin, { method: 'POST' }))
    const [one, two] = keysOf(server)
    expect(one).not.toBe(two)
  })

  it('is the one given, or none with false', async () => {
    const server = await loopback.start((_, res) => sendDone(res))
    for (const idempotencyKey of ['chosen', false] as const)
      await collect(createEventStream(server.origin, { method: 'POST', idempotencyKey }))
    expect(keysOf(server)).toEqual(['chosen', undefined])
  })

  it('lets a POST that got no response at all be re-sent, with the same key', async () => {
    const { items, requests } = await run(
      (_, res, index) => (index === 0 ? res.destroy() : sendDone(res)),
      { method: 'POST', body: 'x' },
    )
    expect(requests).toEqual(['POST /api/chat', 'POST /api/chat'])
    expect(loopback.server.requests[1]?.body).toBe('x')
    const [first, resent] = keysOf(loopback.server)
    expect(resent).toBe(first)
    expect(items).toHaveLength(1)
  })

  it.each([502, 504])('lets a POST answered %i by a gateway be re-sent', async (status) => {
    const { items, requests } = await run(
      (_, res, index) => (index === 0 ? res.writeHead(status).end() : sendDone(res)),
      { method: 'POST', body: 'x' },
    )
    expect(requests).toEqual(['POST /api/chat', 'POST /api/chat'])
    expect(items).toHaveLength(1)
  })

  it('lets a POST whose headers set the key be re-sent, with that key', async () => {
    await run((_, res, index) => (index === 0 ? res.writeHead(502).end() : sendDone(res)), {
      method: 'POST',
      idempotencyKey: false,
      headers: { 'idempotency-key': 'from-headers' },
    })
    expect(keysOf(loopback.server)).toEqual(['from-headers', 'from-headers'])
  })

  it('does not let a keyed POST answered 500 be re-sent (the server processed it)', async () => {
    const { error, requests } = await run((_, res) => res.writeHead(500).end(), { method: 'POST' })
    expect(error).toMatchObject({ code: 'http-status', status: 500 })
    expect(requests).toEqual(['POST /api/chat'])
  })

  it('does not let a POST answered 502 be re-sent without a key', async () => {
    const { error, requests } = await run((_, res) => res.writeHead(502).end(), {
      method: 'POST',
      idempotencyKey: false,
    })
    expect(error).toMatchObject({ code: 'http-status', status: 502 })
    expect(error?.message).toMatch(/not sent again/)
    expect(requests).toEqual(['POST /api/chat'])
  })

  it('is not sent with a GET stream', async () => {
    await run((_, res) => sendDone(res))
    expect(keysOf(loopback.server)).toEqual([undefined])
  })
})
