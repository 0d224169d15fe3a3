import { describe, expect, it, vi } from 'vitest'
import {
  collect,
  formatEvent,
  type Handler,
  openStream,
  sendDone,
  startServer,
  useServer,
} from '../test/server'
import type { UnbrokenClientError } from './errors'
import { createEventStream } from './stream'

const loopback = useServer()

const fail = async (handler: Handler) => {
  const { error, server, stream } = await loopback.read(handler, { backoff: { initialMs: 0 } })
  return { error: error as UnbrokenClientError, requests: server.requests.length, stream }
}

describe('statuses that fail without a retry', () => {
  it.each([204, 400, 404, 405, 409, 422])(
    'fails on %i with http-status and one request',
    async (code) => {
      const { error, requests } = await fail((_, res) => {
        res.writeHead(code).end()
      })
      expect(error).toMatchObject({ code: 'http-status', status: code, retryable: false })
      expect(requests).toBe(1)
    },
  )

  it('fails on 403 with auth', async () => {
    const { error, requests } = await fail((_, res) => {
      res.writeHead(403).end()
    })
    expect(error).toMatchObject({ code: 'auth', status: 403 })
    expect(requests).toBe(1)
  })

  it('fails on 401 with auth when there is no onAuthRequired', async () => {
    const { error, requests } = await fail((_, res) => {
      res.writeHead(401).end()
    })
    expect(error).toMatchObject({ code: 'auth', status: 401 })
    expect(error.message).toContain('onAuthRequired')
    expect(requests).toBe(1)
  })

  it('carries a snippet of the body and the server code from error JSON', async () => {
    const { error } = await fail((_, res) => {
      res.writeHead(400, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ code: 'bad-model', message: 'no such model' }))
    })
    expect(error.body).toContain('no such model')
    expect(error.serverCode).toBe('bad-model')
  })

  it('cuts the body snippet to 512 characters', async () => {
    const { error } = await fail((_, res) => {
      res.writeHead(400).end('x'.repeat(100_000))
    })
    expect(error.body).toHaveLength(512)
  })

  it('ends the stream closed with reason error and the error in the snapshot', async () => {
    const { error, stream } = await fail((_, res) => {
      res.writeHead(400).end()
    })
    expect(stream.getSnapshot()).toMatchObject({ status: 'closed', closeReason: 'error', error })
  })
})

describe('content types', () => {
  it.each([
    'text/html',
    'text/event-streams',
    'application/json',
    'text/plain; x=text/event-stream',
  ])('fails on 200 with %s', async (type) => {
    const { error, requests } = await fail((_, res) => {
      res.writeHead(200, { 'content-type': type }).end('<html>login</html>')
    })
    expect(error).toMatchObject({ code: 'invalid-content-type', status: 200 })
    expect(error.body).toBe('<html>login</html>')
    expect(requests).toBe(1)
  })

  it('fails on 200 without a content type', async () => {
    const { error } = await fail((_, res) => {
      res.removeHeader('content-type')
      res.writeHead(200).end()
    })
    expect(error).toMatchObject({ code: 'invalid-content-type' })
  })

  it.each([
    'text/event-stream',
    'TEXT/Event-Stream',
    'text/event-stream;charset=utf-8',
    'text/event-stream ; charset=UTF-8',
  ])('accepts %s', async (type) => {
    const server = await loopback.start((_, res) => sendDone(res, { 'content-type': type }))
    const { items, error } = await collect(createEventStream(`${server.origin}/s`))
    expect(error).toBeUndefined()
    expect(items).toHaveLength(1)
  })
})

describe('statuses that are retried', () => {
  it.each([408, 425, 429, 500, 502, 503, 504])(
    'retries %i, then reads the stream',
    async (code) => {
      const server = await loopback.start((_, res, index) => {
        if (index === 0) res.writeHead(code).end()
        else sendDone(res)
      })
      const reconnects: number[] = []
      const { items, error } = await collect(
        createEventStream(`${server.origin}/s`, {
          backoff: { initialMs: 0 },
          onReconnect: ({ error }) => reconnects.push(error.status ?? 0),
        }),
      )
      expect(error).toBeUndefined()
      expect(items).toHaveLength(1)
      expect(reconnects).toEqual([code])
    },
  )

  it('retries a connection refused as a network error', async () => {
    const dead = await startServer(() => {})
    const url = `${dead.origin}/s`
    await dead.close()
    const codes: string[] = []
    const { error } = await collect(
      createEventStream(url, {
        backoff: { initialMs: 0 },
        maxAttempts: 3,
        onReconnect: ({ error }) => codes.push(error.code),
      }),
    )
    expect(codes).toEqual(['network', 'network'])
    expect(error).toMatchObject({ code: 'retries-exhausted', cause: { code: 'network' } })
  })
})

describe('limits', () => {
  it('fails with event-too-large, without a retry, when an event outgrows maxEventBytes', async () => {
    const server = await loopback.start((_, res) => {
      openStream(res)
      res.end(formatEvent({ id: '1', data: 'x'.repeat(2000) }))
    })
    const { error } = await collect(createEventStream(`${server.origin}/s`, { maxEventBytes: 100 }))
    expect(error).toMatchObject({ code: 'event-too-large' })
    expect(server.requests).toHaveLength(1)
  })
})

describe('when resuming', () => {
  it.each([404, 410])('fails on %i with resume-failed and the server code', async (code) => {
    const server = await loopback.start((_, res, index) => {
      if (index === 0) {
        openStream(res, { 'content-location': '/streams/1' })
        res.end(formatEvent({ id: '1', data: 'a' }))
      } else {
        res.writeHead(code, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ code: 'cursor-expired', message: 'gone', retryable: false }))
      }
    })
    const { items, error } = await collect(
      createEventStream(`${server.origin}/s`, { method: 'POST', backoff: { initialMs: 0 } }),
    )
    expect(items.map((event) => event.data)).toEqual(['a'])
    expect(error).toMatchObject({
      code: 'resume-failed',
      status: code,
      serverCode: 'cursor-expired',
    })
    expect(server.requests.map((request) => `${request.method} ${request.path}`)).toEqual([
      'POST /s',
      'GET /streams/1',
    ])
  })

  it.each([404, 410])(
    'fails on %i with resume-failed when the first request resumes a saved lastEventId',
    async (code) => {
      const server = await loopback.start((_, res) => {
        res.writeHead(code, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ code: 'cursor-expired', message: 'gone', retryable: false }))
      })
      const { error } = await collect(
        createEventStream(`${server.origin}/streams/1`, { lastEventId: '7' }),
      )
      expect(error).toMatchObject({ code: 'resume-failed', status: code })
      expect(server.requests.map((request) => request.lastEventId)).toEqual(['7'])
    },
  )
})

describe('the console', () => {
  it('gets nothing, whatever fails: statuses, content types, throwing callbacks', async () => {
    const methods = ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const
    const spies = methods.map((method) => vi.spyOn(console, method))
    try {
      const { error } = await loopback.read(
        (_, res, index) => {
          if (index === 0) return res.writeHead(500).end()
          if (index === 1) return res.writeHead(200, { 'content-type': 'text/html' }).end('<p>')
        },
        {
          backoff: { initialMs: 0 },
          shouldRetry: (context) => context.error.code === 'http-status' && 0,
          onError: () => {
            throw new Error('bug in onError')
          },
          onClose: () => {
            throw new Error('bug in onClose')
          },
        },
      )
      expect(error).toMatchObject({ code: 'invalid-content-type' })
      for (const spy of spies) expect(spy).not.toHaveBeenCalled()
    } finally {
      for (const spy of spies) spy.mockRestore()
    }
  })
})
