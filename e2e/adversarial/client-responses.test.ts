// Hostile answers to the client's requests: wrong statuses and content types, redirect loops,
// absurd retry hints. Every read must end, typed, with nothing twice (client-hostile.ts).
import type { RequestListener } from 'node:http'
import { createEventStream, type ReconnectInfo } from '@unbroken/client'
import { listen } from '@unbroken/test-kit'
import { describe, expect, it } from 'vitest'
import { createHostileServer, DONE, numbered, openSse } from './client-hostile'

const hostile = createHostileServer()

describe('a server that answers something other than a stream', () => {
  it.each([
    ['text/html', 'text/html'],
    ['no content type', undefined],
    ['text/event-streamx', 'text/event-streamx'],
    ['application/json', 'application/json'],
  ])('fails at once with invalid-content-type on a 200 with %s', async (_, type) => {
    let requests = 0
    const { error } = await hostile.read((_, res) => {
      requests++
      res.writeHead(200, type ? { 'content-type': type } : {})
      res.end('<html>login</html>')
    })
    expect(error).toMatchObject({ code: 'invalid-content-type', status: 200 })
    expect(requests).toBe(1)
  })

  it('gives up with retries-exhausted on a server that answers 500 forever', async () => {
    let requests = 0
    const { error } = await hostile.read((_, res) => {
      requests++
      res.writeHead(500).end('down')
    })
    expect(error).toMatchObject({ code: 'retries-exhausted', cause: { status: 500 } })
    expect(requests).toBe(3)
  })

  it('fails on a status outside every class (299, 999) without a retry', async () => {
    for (const status of [299, 999]) {
      const { error } = await hostile.read((_, res) => res.writeHead(status).end())
      expect(error).toMatchObject({ code: 'http-status', status })
    }
  })

  it('ends a redirect loop with a typed error instead of following it forever', async () => {
    let requests = 0
    const { error } = await hostile.read((req, res) => {
      requests++
      res.writeHead(302, { location: req.url === '/a' ? '/b' : '/a' }).end()
    })
    expect(error).toMatchObject({ code: 'retries-exhausted', cause: { code: 'network' } })
    // fetch follows at most 20 redirects per attempt; three attempts.
    expect(requests).toBeLessThanOrEqual(3 * 21)
  })

  it('never carries Authorization or cookies through a redirect to another origin', async () => {
    const seen: Array<string | undefined> = []
    const other = await listen((req, res) => {
      seen.push(req.headers.authorization ?? req.headers.cookie)
      openSse(res)
      res.end(numbered(1, 1) + DONE)
    })
    try {
      const { events } = await hostile.read(
        (_, res) => res.writeHead(307, { location: `${other.origin}/s` }).end(),
        { method: 'POST', headers: { authorization: 'Bearer secret', cookie: 'session=1' } },
      )
      expect(events.map((event) => event.data)).toEqual(['e1', '{}'])
      expect(seen).toEqual([undefined])
    } finally {
      await other.close()
    }
  })
})

describe('absurd retry hints', () => {
  // Runs until the first retry is scheduled, then closes: the delay it chose is what matters.
  const firstRetry = async (handler: RequestListener) => {
    const server = await hostile.start(handler)
    return new Promise<ReconnectInfo | undefined>((resolve) => {
      const stream = createEventStream(`${server.origin}/s`, {
        random: () => 1,
        onReconnect: (info) => {
          resolve(info)
          stream.close()
        },
        onClose: () => resolve(undefined),
      })
    })
  }
  const answer503 =
    (retryAfter: string): RequestListener =>
    (_, res) =>
      res.writeHead(503, { 'retry-after': retryAfter }).end()
  const cutAfter =
    (wire: string): RequestListener =>
    (_, res) => {
      openSse(res)
      res.end(wire)
    }
  const errorEvent = (retryAfterMs: string) =>
    `event: error\ndata: {"code":"busy","message":"later","retryable":true,"retryAfterMs":${retryAfterMs}}\n\n`

  // With a 1 s backoff at full jitter: 61 s is the 60 s cap plus the backoff.
  it.each([
    ['Retry-After: 99999999', answer503('99999999'), 61_000],
    [
      'a Retry-After date ten years out',
      answer503(new Date(Date.now() + 3.2e11).toUTCString()),
      61_000,
    ],
    ['Retry-After: -5', answer503('-5'), 1000],
    ['Retry-After: 1e3', answer503('1e3'), 1000],
    ['Retry-After: 99999999999999999999999', answer503('99999999999999999999999'), 61_000],
    ['retry: 99999999999999999999', cutAfter('retry: 99999999999999999999\n\n'), 60_000],
    ['retry: -1', cutAfter('retry: -1\n\n'), 1000],
    ['retryAfterMs: 1e400 (Infinity)', cutAfter(errorEvent('1e400')), 61_000],
    ['retryAfterMs: -1e15', cutAfter(errorEvent('-1e15')), 1000],
    ['retryAfterMs: "soon"', cutAfter(errorEvent('"soon"')), 1000],
  ])('waits a bounded time after %s', async (_, handler, expected) => {
    const info = await firstRetry(handler)
    expect(info?.delayMs).toBe(expected)
  })
})
