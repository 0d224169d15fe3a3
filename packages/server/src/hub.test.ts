import type { ServerResponse } from 'node:http'
import { type Listening, listen, parseSse } from '@unbroken/test-kit'
import { afterEach, describe, expect, it } from 'vitest'
import { createEventHub } from './hub'
import { connectNonReading, openStream } from './test-helpers'
import type { EventHub, EventWriter, MetricsChange, SendOutcome } from './types'
import { StreamWriter } from './writer'

let server: Listening | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

/** Serves streams that send `count` events (or forever when omitted) until closed. */
async function serveProducers(hub: EventHub, count?: number): Promise<Listening> {
  server = await listen((req, res) => {
    let writer: EventWriter
    try {
      writer = hub.node(req, res)
    } catch (error) {
      res.writeHead(503, { 'retry-after': '1' }).end((error as { code: string }).code)
      return
    }
    void (async () => {
      let outcome: SendOutcome = 'written'
      for (let i = 0; (count === undefined || i < count) && outcome === 'written'; i++) {
        outcome = await writer.send({ id: i, data: `e${i}` })
        // Yield to I/O like a real token source, so streams interleave.
        await new Promise<void>((resolve) => setImmediate(resolve))
      }
      if (count !== undefined) await writer.end()
    })()
  })
  return server
}

describe('hub', () => {
  it('serves 200 concurrent streams completely', async () => {
    const hub = createEventHub()
    const { origin } = await serveProducers(hub, 50)
    const bodies = await Promise.all(
      Array.from({ length: 200 }, async () => (await openStream(origin)).ended()),
    )
    for (const body of bodies) {
      const events = parseSse(body)
      expect(events).toHaveLength(51)
      expect(events.at(-1)?.event).toBe('done')
    }
    expect(hub.metrics()).toMatchObject({ activeStreams: 0, openedStreams: 200, events: 200 * 50 })
    expect(hub.metrics().disconnects.ended).toBe(200)
  })

  it('refuses streams past maxStreams with stream-limit', async () => {
    const hub = createEventHub({ maxStreams: 1 })
    const { origin } = await serveProducers(hub)
    const first = await openStream(origin)
    await first.waitFor('id: 0')
    const second = await openStream(origin)
    expect(second.response.statusCode).toBe(503)
    expect(await second.ended()).toBe('stream-limit')
    first.destroy()
  })

  it('counts events and bytes per stream and in aggregate', async () => {
    const hub = createEventHub()
    let writer: EventWriter | undefined
    server = await listen((req, res) => {
      writer = hub.node(req, res)
      void writer.send({ data: 'abc' }).then(() => writer?.end())
    })
    const body = await (await openStream(server.origin)).ended()
    expect(writer?.metrics()).toMatchObject({
      events: 1,
      bytes: Buffer.byteLength(body),
      closeReason: 'ended',
    })
    expect(hub.metrics()).toMatchObject({
      events: 1,
      bytes: Buffer.byteLength(body),
      activeStreams: 0,
    })
  })

  it('records resumes and replayed events for the registry', () => {
    const hub = createEventHub()
    const { writer } = hub.web(
      new Request('http://localhost/s', { headers: { 'Last-Event-ID': '3' } }),
    )
    if (!(writer instanceof StreamWriter)) throw new Error('the hub hands out StreamWriters')
    writer.recordResume()
    writer.recordResume()
    writer.recordReplayed(4)
    expect(writer.metrics()).toMatchObject({ resumed: true, replayedEvents: 4 })
    expect(hub.metrics()).toMatchObject({ resumes: 1, replayedEvents: 4 })
  })

  it('reports opens, closes with their reason, and resumes to onMetrics', async () => {
    const hub = createEventHub()
    const changes: MetricsChange['type'][] = []
    const unsubscribe = hub.onMetrics((change) => {
      changes.push(
        change.type === 'stream-close'
          ? (`stream-close:${change.reason}` as 'stream-close')
          : change.type,
      )
    })
    const { writer, response } = hub.web(new Request('http://localhost/s'))
    if (!(writer instanceof StreamWriter)) throw new Error('the hub hands out StreamWriters')
    writer.recordResume()
    void writer.end()
    await response.text()
    unsubscribe()
    hub.web(new Request('http://localhost/s'))
    expect(changes).toEqual(['stream-open', 'resume', 'stream-close:ended'])
  })

  it('keeps streaming when a metrics listener throws', async () => {
    const hub = createEventHub()
    hub.onMetrics(() => {
      throw new Error('listener bug')
    })
    const { writer, response } = hub.web(new Request('http://localhost/s'))
    void writer.end()
    expect(parseSse(await response.text())).toEqual([{ event: 'done', data: '{}' }])
  })

  it('throws invalid-argument for a bad option at creation', () => {
    expect(() => createEventHub({ drainTimeoutMs: -1 })).toThrowError(
      expect.objectContaining({ code: 'invalid-argument' }),
    )
    expect(() => createEventHub({ retryMs: 1.5 })).toThrowError(
      expect.objectContaining({ code: 'invalid-argument' }),
    )
  })

  it.each([Number.NaN, -1, Number.NEGATIVE_INFINITY])(
    'throws invalid-argument for expiresAt %s at creation',
    (expiresAt) => {
      expect(() =>
        createEventHub({ expiresAt }).web(new Request('http://localhost/s')),
      ).toThrowError(expect.objectContaining({ code: 'invalid-argument' }))
    },
  )
})

describe('closeAll', () => {
  it('ends every stream in flight with a jittered retry and a retryable shutting-down error', async () => {
    const hub = createEventHub({ retryMs: 1000 })
    const { origin } = await serveProducers(hub)
    const clients = await Promise.all(Array.from({ length: 20 }, () => openStream(origin)))
    await Promise.all(clients.map((client) => client.waitFor('id: 2')))
    await hub.closeAll({ reason: 'deploy', retryJitterMs: 1000, deadlineMs: 5000 })
    const retries = new Set<number>()
    for (const body of await Promise.all(clients.map((client) => client.ended()))) {
      const last = parseSse(body).at(-1)
      expect(last?.event).toBe('error')
      const payload = JSON.parse(last?.data ?? '')
      expect(payload).toMatchObject({ code: 'shutting-down', retryable: true })
      expect(payload.message).toContain('deploy')
      expect(body).toContain(`retry: ${payload.retryAfterMs}\nevent: error`)
      expect(payload.retryAfterMs).toBeGreaterThanOrEqual(1000)
      expect(payload.retryAfterMs).toBeLessThanOrEqual(2000)
      retries.add(payload.retryAfterMs)
    }
    expect(retries.size).toBeGreaterThan(1)
    expect(hub.metrics()).toMatchObject({ activeStreams: 0 })
    expect(hub.metrics().disconnects.shutdown).toBe(20)
  })

  it('refuses new streams once closing', async () => {
    const hub = createEventHub()
    await hub.closeAll()
    expect(hub.closing).toBe(true)
    expect(() => hub.web(new Request('http://localhost/s'))).toThrowError(
      expect.objectContaining({ code: 'shutting-down' }),
    )
  })

  it('resolves at the deadline when a client cannot take its terminal event, and cuts it', async () => {
    const hub = createEventHub({ drainTimeoutMs: 60_000, keepAliveMs: 0 })
    let writer: EventWriter | undefined
    let response: ServerResponse | undefined
    server = await listen((req, res) => {
      response = res
      writer = hub.node(req, res)
      void (async () => {
        while ((await writer?.send({ data: 'x'.repeat(1024) })) === 'written') {}
      })()
    })
    const socket = await connectNonReading(server.port)
    while ((writer?.metrics().backpressureCount ?? 0) === 0)
      await new Promise((resolve) => setImmediate(resolve))
    await hub.closeAll({ deadlineMs: 100 })
    expect(writer?.closed).toBe(true)
    expect(response?.destroyed).toBe(true)
    socket.destroy()
  })
})
