// Agreement A4: a repeated POST with the same Idempotency-Key and principal attaches to the stream
// the first one started, on this instance or any other sharing the log; it never runs the producer
// twice.
import { listen, readSse, waitFor } from '@unbroken/test-kit'
import { afterEach, describe, expect, it } from 'vitest'
import { createEventHub } from './hub'
import { createMemoryEventLog } from './memory-log'
import { createResumableStreams } from './resumable'
import type { Producer } from './resumable-producer'
import type { ResumableStreamsOptions } from './resumable-types'
import type { NodeRequest } from './types'

const closers: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const close of closers.splice(0)) await close()
})

const KEY = 'k4Wq9mZr2TnX8vLb1PsY0e'
const OTHER_KEY = 'Zp3Rt7Yv1Nq5Wm9Kc2Hx6J'

/**
 * A registry whose producer counts its runs and streams three tokens once released;
 * `onConnectionClosed` hears the server side of a connection close.
 */
async function serve({
  onConnectionClosed,
  ...options
}: ResumableStreamsOptions & { onConnectionClosed?: () => void } = {}) {
  let runs = 0
  let release = () => {}
  const released = new Promise<void>((resolve) => {
    release = resolve
  })
  const producer: Producer<NodeRequest> = async (stream) => {
    runs += 1
    await stream.send({ event: 'delta', data: 'a' })
    await released
    await stream.send({ event: 'delta', data: 'b' })
    await stream.send({ event: 'delta', data: 'c' })
  }
  const streams = createResumableStreams(options)
  const server = await listen((req, res) => {
    if (onConnectionClosed) req.socket.once('close', onConnectionClosed)
    void streams.handle(req, res, producer)
  })
  closers.push(server.close, () => streams.close())
  const post = (
    headers: Record<string, string> = { 'idempotency-key': KEY },
    signal?: AbortSignal,
  ) => fetch(`${server.origin}/streams`, { method: 'POST', headers, signal })
  return { post, release, runs: () => runs }
}

const texts = async (response: Response) =>
  (await readSse(response).rest()).filter((e) => e.event === 'delta').map((e) => e.data)

describe('POST with an Idempotency-Key', () => {
  it('attaches a repeat to the running stream: same Content-Location, one generation, no text twice', async () => {
    const server = await serve()
    const first = await server.post()
    const firstReader = readSse(first)
    expect((await firstReader.next())?.data).toBe('a')
    const again = await server.post()
    expect(again.status).toBe(200)
    expect(again.headers.get('content-location')).toBe(first.headers.get('content-location'))
    server.release()
    expect(await texts(again)).toEqual(['a', 'b', 'c'])
    await firstReader.cancel()
    expect(server.runs()).toBe(1)
  })

  it('replays only after the Last-Event-ID a re-POST carries', async () => {
    const server = await serve()
    const first = await server.post()
    const [a] = await readSse(first).take(1)
    server.release()
    const again = await server.post({ 'idempotency-key': KEY, 'last-event-id': a?.id ?? '' })
    expect(await texts(again)).toEqual(['b', 'c'])
    expect(server.runs()).toBe(1)
  })

  it('starts one generation for two identical POSTs racing each other', async () => {
    const server = await serve()
    const [one, two] = await Promise.all([server.post(), server.post()])
    expect(one?.headers.get('content-location')).toBe(two?.headers.get('content-location'))
    server.release()
    await Promise.all([texts(one as Response), texts(two as Response)])
    expect(server.runs()).toBe(1)
  })

  it('keeps streams of different principals apart under the same key', async () => {
    const server = await serve({ principal: (request) => request.header('x-user') })
    const alice = await server.post({ 'idempotency-key': KEY, 'x-user': 'alice' })
    const bob = await server.post({ 'idempotency-key': KEY, 'x-user': 'bob' })
    expect(bob.headers.get('content-location')).not.toBe(alice.headers.get('content-location'))
    server.release()
    await Promise.all([texts(alice), texts(bob)])
    expect(server.runs()).toBe(2)
  })

  it('attaches across instances that share the event log', async () => {
    const log = createMemoryEventLog()
    closers.push(() => log.close())
    const one = await serve({ log })
    const two = await serve({ log })
    const first = await one.post()
    await readSse(first).take(1)
    const again = await two.post()
    expect(again.headers.get('content-location')).toBe(first.headers.get('content-location'))
    one.release()
    expect(await texts(again)).toEqual(['a', 'b', 'c'])
    expect(one.runs() + two.runs()).toBe(1)
  })

  it('runs the generation of a POST whose client left before its response began, for the retry to attach', async () => {
    // A load balancer that gave up waiting for the response head (nginx's proxy_read_timeout)
    // sends the same POST to another instance and closes this connection.
    let entered = () => {}
    const hookEntered = new Promise<void>((resolve) => {
      entered = resolve
    })
    let leave = () => {}
    const clientLeft = new Promise<void>((resolve) => {
      leave = resolve
    })
    let hookCalls = 0
    const server = await serve({
      expiresAt: async () => {
        if (++hookCalls === 1) {
          entered()
          await clientLeft
        }
        return undefined
      },
      onConnectionClosed: leave,
    })
    const abandoned = new AbortController()
    const first = server.post({ 'idempotency-key': KEY }, abandoned.signal).catch(() => undefined)
    await hookEntered
    abandoned.abort()
    await first
    const again = await server.post()
    server.release()
    expect(await texts(again)).toEqual(['a', 'b', 'c'])
    expect(server.runs()).toBe(1)
  })

  it('runs the generation of a POST the hub refused after its stream was created, for the retry to attach', async () => {
    const hub = createEventHub({ keepAliveMs: 0, maxStreams: 1 })
    const server = await serve({ hub })
    const holder = readSse(await server.post({ 'idempotency-key': OTHER_KEY }))
    await holder.next()
    const refused = await server.post()
    expect(refused.status).toBe(429)
    await refused.body?.cancel()
    await holder.cancel()
    await waitFor(() => hub.metrics().activeStreams === 0)
    const again = await server.post()
    server.release()
    expect(await texts(again)).toEqual(['a', 'b', 'c'])
    expect(server.runs()).toBe(2)
  })

  it('creates nothing for a POST its expiresAt hook failed, so the retry runs the generation', async () => {
    let hookCalls = 0
    const server = await serve({
      expiresAt: () => {
        if (++hookCalls === 1) throw new Error('token service unreachable')
        return undefined
      },
      onError: () => {},
    })
    const failed = await server.post()
    expect(failed.status).toBe(500)
    await failed.body?.cancel()
    const again = await server.post()
    server.release()
    expect(await texts(again)).toEqual(['a', 'b', 'c'])
    expect(server.runs()).toBe(1)
  })

  it('refuses a key too short to be unguessable with 400 invalid-argument', async () => {
    const server = await serve()
    const response = await server.post({ 'idempotency-key': 'abc' })
    expect(response.status).toBe(400)
    expect(await response.json()).toMatchObject({ code: 'invalid-argument' })
    expect(server.runs()).toBe(0)
  })

  it('starts a new generation for every POST without a key', async () => {
    const server = await serve()
    const [one, two] = [await server.post({}), await server.post({})]
    expect(two.headers.get('content-location')).not.toBe(one.headers.get('content-location'))
    server.release()
    await Promise.all([texts(one), texts(two)])
    expect(server.runs()).toBe(2)
  })
})
