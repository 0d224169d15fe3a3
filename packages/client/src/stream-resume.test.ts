import type { ServerResponse } from 'node:http'
import { describe, expect, it } from 'vitest'
import { formatEvent, type Handler, openStream, sendDone, useServer } from '../test/server'
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

  it('fail without re-POSTing when the connection drops before any response', async () => {
    const { error, requests } = await run((_, res) => res.destroy(), { method: 'POST' })
    expect(error).toMatchObject({ code: 'resume-failed' })
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
