import type { ServerResponse } from 'node:http'
import { request } from 'node:http'
import type { Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { createEventHub } from './hub'
import { aborted, connectNonReading, listen, type TestServer } from './test-helpers'
import type { EventHubOptions, EventWriter, SendOutcome } from './types'

let server: TestServer | undefined
const sockets: Socket[] = []
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy()
  await server?.close()
  server = undefined
})

const KIB = 'x'.repeat(1024)

interface Served {
  writer: EventWriter
  res: ServerResponse
}

/** A server whose first request's writer and response are handed to the test. */
async function serveOne(
  options: EventHubOptions,
): Promise<{ url: string; port: number; served: Promise<Served> }> {
  const hub = createEventHub(options)
  let resolve: (served: Served) => void = () => {}
  const served = new Promise<Served>((r) => {
    resolve = r
  })
  server = await listen((req, res) => resolve({ writer: hub.node(req, res), res }))
  return { url: server.url, port: server.port, served }
}

describe('bounded backpressure', () => {
  it('closes a never-reading client at the drain timeout and unblocks the producer', async () => {
    const { port, served } = await serveOne({ drainTimeoutMs: 200, keepAliveMs: 0 })
    sockets.push(await connectNonReading(port))
    const { writer, res } = await served
    let outcome: SendOutcome = 'written'
    let maxBuffered = 0
    while (outcome === 'written') {
      outcome = await writer.send({ data: KIB })
      maxBuffered = Math.max(maxBuffered, res.writableLength)
    }
    expect(outcome).toBe('closed')
    expect(writer.signal.reason).toBe('slow-client')
    expect(writer.metrics().drainTimeouts).toBe(1)
    // Userland holds at most Node's own high-water mark plus one coalesced batch.
    expect(maxBuffered).toBeLessThanOrEqual(96 * 1024)
  })

  it('resolves a send waiting for drain as closed when the client disconnects', async () => {
    const { port, served } = await serveOne({ drainTimeoutMs: 60_000, keepAliveMs: 0 })
    const socket = await connectNonReading(port)
    sockets.push(socket)
    const { writer } = await served
    let outcome: SendOutcome = 'written'
    while (outcome === 'written') {
      const pending = writer.send({ data: KIB })
      if (writer.metrics().backpressureCount > 0) socket.destroy()
      outcome = await pending
    }
    expect(outcome).toBe('closed')
    expect(writer.signal.reason).toBe('client-closed')
    expect(writer.metrics().drainTimeouts).toBe(0)
  })

  it('cuts a client once sends that nobody awaits pile up past the high-water mark', async () => {
    const highWaterMarkBytes = 64 * 1024
    const { port, served } = await serveOne({
      highWaterMarkBytes,
      drainTimeoutMs: 60_000,
      keepAliveMs: 0,
    })
    sockets.push(await connectNonReading(port))
    const { writer, res } = await served
    const outcomes: Array<Promise<SendOutcome>> = []
    let maxBuffered = 0
    // 32 MiB offered in one synchronous burst: more than loopback's kernel buffers can absorb.
    for (let i = 0; i < 32 * 1024 && !writer.closed; i++) {
      outcomes.push(writer.send({ data: KIB }))
      maxBuffered = Math.max(maxBuffered, res.writableLength)
    }
    expect(writer.signal.reason).toBe('slow-client')
    expect(await outcomes.at(-1)).toBe('closed')
    expect(maxBuffered).toBeLessThanOrEqual(highWaterMarkBytes + 64 * 1024)
  })

  it('skips keepalives while backpressured, so they cannot queue', async () => {
    const { port, served } = await serveOne({ drainTimeoutMs: 60_000, keepAliveMs: 4 })
    sockets.push(await connectNonReading(port))
    const { writer } = await served
    let sent = 0
    void (async () => {
      while ((await writer.send({ data: KIB })) === 'written') sent++
    })()
    // Wait until the producer is stuck on a drain that cannot come (kernel buffers full).
    let last = -1
    while (sent !== last) {
      last = sent
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    const bytes = writer.metrics().bytes
    // Dozens of keepalive periods pass while the client reads nothing.
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(writer.metrics().bytes).toBe(bytes)
    writer.close('slow-client')
  })
})

/** A reader that takes at most `bytesPerSecond`, reading exact byte counts from a paused response. */
function readSlowly(url: string, bytesPerSecond: number): Promise<string> {
  return new Promise((resolve, reject) => {
    request(url, (response) => {
      const chunks: string[] = []
      const perTick = Math.max(1, Math.round(bytesPerSecond / 20))
      response.setEncoding('latin1')
      const tick = setInterval(() => {
        let budget = perTick
        while (budget > 0 && response.readableLength > 0) {
          const chunk: string | null = response.read(Math.min(budget, response.readableLength))
          if (chunk === null) break
          chunks.push(chunk)
          budget -= chunk.length
        }
        // Asks the stream to refill its buffer from the socket (and to notice the end).
        response.read(0)
      }, 50)
      response.on('end', () => {
        clearInterval(tick)
        resolve(chunks.join(''))
      })
      response.on('error', reject)
    })
      .on('error', reject)
      .end()
  })
}

describe('slow reader', () => {
  // UNBROKEN_SOAK=1 runs the full 10 MB at ~100 KB/s (about 100 s); the default is a 1 MB sample.
  const soak = process.env.UNBROKEN_SOAK === '1'
  const totalBytes = soak ? 10 * 1024 * 1024 : 1024 * 1024
  const rate = soak ? 100 * 1024 : 512 * 1024

  it(
    'receives every byte in order while server-side buffering stays bounded',
    async () => {
      const hub = createEventHub({ keepAliveMs: 0 })
      let maxBuffered = 0
      let producer: Promise<SendOutcome> | undefined
      server = await listen((req, res) => {
        const writer = hub.node(req, res)
        producer = (async () => {
          let outcome: SendOutcome = 'written'
          for (let i = 0; i * 1024 < totalBytes && outcome === 'written'; i++) {
            outcome = await writer.send({ id: i, data: KIB })
            maxBuffered = Math.max(maxBuffered, res.writableLength)
          }
          await writer.end()
          return outcome
        })()
      })
      const body = await readSlowly(server.url, rate)
      expect(await producer).toBe('written')
      const ids = [...body.matchAll(/\nid: (\d+)\n/g)].map((m) => Number(m[1]))
      expect(ids.length).toBe(totalBytes / 1024)
      expect(ids.every((id, i) => id === i)).toBe(true)
      expect(maxBuffered).toBeLessThanOrEqual(96 * 1024)
      expect(hub.metrics().backpressureCount).toBeGreaterThan(0)
    },
    soak ? 300_000 : 30_000,
  )
})

describe('abrupt disconnects', () => {
  it('never hangs a producer when clients vanish at random points', async () => {
    const hub = createEventHub({ keepAliveMs: 0, drainTimeoutMs: 60_000 })
    const producers: Array<Promise<SendOutcome>> = []
    server = await listen((req, res) => {
      const writer = hub.node(req, res)
      producers.push(
        (async () => {
          let outcome: SendOutcome = 'written'
          // Unbounded on purpose: only the disconnect can stop it.
          for (let i = 0; outcome === 'written'; i++)
            outcome = await writer.send({ id: i, data: KIB })
          return outcome
        })(),
      )
    })
    // A fixed-seed LCG keeps the "random" cut points reproducible.
    let seed = 42
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31
      return seed / 2 ** 31
    }
    const clients = Array.from({ length: 40 }, () => {
      const cutAfter = Math.floor(random() * 256 * 1024)
      return new Promise<void>((resolve) => {
        const req = request(server?.url ?? '', (response) => {
          let received = 0
          response.on('data', (chunk: Buffer) => {
            received += chunk.length
            if (received >= cutAfter) req.destroy()
          })
          response.on('close', resolve)
        })
        req.on('error', () => resolve())
        req.end()
      })
    })
    await Promise.all(clients)
    const outcomes = await Promise.all(producers)
    expect(outcomes).toHaveLength(40)
    expect(outcomes.every((outcome) => outcome === 'closed')).toBe(true)
    expect(hub.metrics().activeStreams).toBe(0)
    expect(hub.metrics().disconnects['client-closed']).toBe(40)
  })

  it('reports the disconnect reason on the signal for a client gone during drain', async () => {
    const { port, served } = await serveOne({ drainTimeoutMs: 60_000, keepAliveMs: 0 })
    const socket = await connectNonReading(port)
    const { writer } = await served
    while (writer.metrics().backpressureCount === 0) void writer.send({ data: KIB })
    socket.destroy()
    expect(await aborted(writer.signal)).toBe('client-closed')
  })
})
