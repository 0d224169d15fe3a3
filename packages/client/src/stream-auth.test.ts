import { describe, expect, it } from 'vitest'
import { formatEvent, type Handler, openStream, sendDone, useServer } from '../test/server'
import type { AuthContext, EventStreamOptions } from './types'

const loopback = useServer()

// A token that the test "refreshes": the headers function reads it on every attempt.
const run = async (handler: Handler, options: EventStreamOptions = {}) => {
  let token = 1
  const refreshes: AuthContext[] = []
  const reconnects: string[] = []
  const result = await loopback.read(handler, {
    backoff: { initialMs: 0 },
    headers: () => ({ authorization: `Bearer ${token}` }),
    onAuthRequired: async (context) => {
      refreshes.push(context)
      token++
    },
    onReconnect: ({ error }) => reconnects.push(error.code),
    ...options,
  })
  const tokens = result.server.requests.map((request) => request.headers.authorization)
  return { ...result, refreshes, reconnects, tokens }
}

describe('auth refresh', () => {
  it('refreshes after a 401 and retries with fresh headers, without a backoff attempt', async () => {
    const { items, refreshes, reconnects, tokens, stream } = await run((request, res) =>
      request.headers.authorization === 'Bearer 1' ? res.writeHead(401).end() : sendDone(res),
    )
    expect(tokens).toEqual(['Bearer 1', 'Bearer 2'])
    expect(refreshes).toEqual([{ reason: 'unauthorized' }])
    expect(reconnects).toEqual([])
    expect(items).toHaveLength(1)
    expect(stream.getSnapshot().attempt).toBe(0)
  })

  it('refreshes after an auth-expired event and resumes from the last id', async () => {
    const { items, refreshes, tokens } = await run((_, res, index) => {
      if (index === 1) return sendDone(res)
      openStream(res)
      res.write(formatEvent({ id: '1', data: 'a' }))
      res.write(formatEvent({ id: '2', event: 'auth-expired', data: '' }))
      // The client must act on the event, not wait for the server to close.
    })
    expect(refreshes.map(({ reason }) => reason)).toEqual(['auth-expired'])
    expect(tokens).toEqual(['Bearer 1', 'Bearer 2'])
    expect(loopback.server.requests[1]?.lastEventId).toBe('2')
    expect(items.map((event) => event.data)).toEqual(['a', '{}'])
  })

  it('fails with a clear auth error on a second 401 right after a refresh', async () => {
    const { error, refreshes, tokens } = await run((_, res) => res.writeHead(401).end())
    expect(error).toMatchObject({ code: 'auth', status: 401 })
    expect(error?.message).toContain('Still unauthorized')
    expect(refreshes).toHaveLength(1)
    expect(tokens).toHaveLength(2)
  })

  it('refreshes again after a failure that was not about credentials (401, 503, 401)', async () => {
    const answers = [401, 503, 401]
    const { items, refreshes, tokens } = await run((_, res, index) => {
      const status = answers[index]
      return status ? res.writeHead(status).end() : sendDone(res)
    })
    expect(refreshes).toHaveLength(2)
    expect(tokens).toEqual(['Bearer 1', 'Bearer 2', 'Bearer 2', 'Bearer 3'])
    expect(items).toHaveLength(1)
  })

  it('refreshes once per expiry: again after events flowed in between', async () => {
    const { items, refreshes } = await run((_, res, index) => {
      if (index === 2) return sendDone(res)
      openStream(res)
      res.write(formatEvent({ id: String(index), data: String(index) }))
      res.write(formatEvent({ event: 'auth-expired', data: '' }))
    })
    expect(refreshes).toHaveLength(2)
    expect(items.map((event) => event.data)).toEqual(['0', '1', '{}'])
  })

  // A long prefill: the connection opened with the refreshed token carries no event before that
  // token is due in turn. The later expiry it names shows the refresh worked.
  it('refreshes again when auth-expired names a later expiry, with no event in between', async () => {
    const { items, error, refreshes, tokens } = await run((_, res, index) => {
      if (index === 3) return sendDone(res)
      openStream(res)
      res.write(formatEvent({ event: 'auth-expired', data: `{"expiresAt":${(index + 1) * 7000}}` }))
    })
    expect(error).toBeUndefined()
    expect(refreshes).toHaveLength(3)
    expect(tokens).toEqual(['Bearer 1', 'Bearer 2', 'Bearer 3', 'Bearer 4'])
    expect(items.map((event) => event.data)).toEqual(['{}'])
  })

  it('fails when auth-expired names the same expiry right after a refresh (a stale token)', async () => {
    const { error, refreshes } = await run((_, res) => {
      openStream(res)
      res.write(formatEvent({ event: 'auth-expired', data: '{"expiresAt":7000}' }))
    })
    expect(refreshes).toHaveLength(1)
    expect(error).toMatchObject({
      code: 'auth',
      message: 'Still unauthorized after onAuthRequired',
    })
  })

  it('refreshes at most maxAttempts times without an event, when each token is due at once', async () => {
    const { error, refreshes } = await run(
      (_, res, index) => {
        openStream(res)
        res.write(formatEvent({ event: 'auth-expired', data: `{"expiresAt":${index + 1}}` }))
      },
      { maxAttempts: 3 },
    )
    expect(refreshes).toHaveLength(3)
    expect(error).toMatchObject({
      code: 'retries-exhausted',
      cause: { serverCode: 'auth-expired' },
    })
  })

  it('fails when auth-expired comes again before any event', async () => {
    const { error, refreshes } = await run((_, res) => {
      openStream(res)
      res.write(formatEvent({ event: 'auth-expired', data: '' }))
    })
    expect(refreshes).toHaveLength(1)
    expect(error).toMatchObject({ code: 'auth' })
  })

  it('fails with auth when onAuthRequired throws', async () => {
    const { error } = await run((_, res) => res.writeHead(401).end(), {
      onAuthRequired: () => {
        throw new Error('refresh token revoked')
      },
    })
    expect(error).toMatchObject({ code: 'auth', cause: { message: 'refresh token revoked' } })
  })

  it('does not refresh on 403', async () => {
    const { error, refreshes } = await run((_, res) => res.writeHead(403).end())
    expect(refreshes).toEqual([])
    expect(error).toMatchObject({ code: 'auth', status: 403 })
  })

  it('re-sends a POST rejected with 401, which the server did not process', async () => {
    await run(
      (request, res) =>
        request.headers.authorization === 'Bearer 1' ? res.writeHead(401).end() : sendDone(res),
      { method: 'POST', body: 'x' },
    )
    expect(loopback.server.requests.map((request) => `${request.method} ${request.body}`)).toEqual([
      'POST x',
      'POST x',
    ])
  })

  it('does not re-POST after auth-expired on a stream without Content-Location', async () => {
    const { error } = await run(
      (_, res) => {
        openStream(res)
        res.write(formatEvent({ id: '1', data: 'a' }))
        res.write(formatEvent({ event: 'auth-expired', data: '' }))
      },
      { method: 'POST' },
    )
    expect(error).toMatchObject({ code: 'resume-failed' })
    expect(loopback.server.requests).toHaveLength(1)
  })
})
