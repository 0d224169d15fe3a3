import { rmSync } from 'node:fs'
import { createServer, type RequestListener, request, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Listening, listen } from '@unbroken/test-kit'
import { afterEach, describe, expect, it } from 'vitest'
import { createEventHub } from './hub'
import { aborted, connectNonReading } from './test-helpers'
import type { EventHubOptions, EventWriter, SendOutcome } from './types'

let server: Listening | undefined
const sockets: Socket[] = []
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy()
  await server?.close()
  server = undefined
})

const KIB = 'x'.repeat(1024)
// Userland holds at most Node's own high-water mark plus one coalesced batch.
const USERLAND_BOUND = 96 * 1024

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
  return { url: server.origin, port: server.port, served }
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
    expect(maxBuffered).toBeLessThanOrEqual(USERLAND_BOUND)
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

  it('takes one frame larger than the high-water mark without calling the client slow', async () => {
    const highWaterMarkBytes = 64 * 1024
    const { url, served } = await serveOne({ highWaterMarkBytes, keepAliveMs: 0 })
    const body = fetch(url).then((response) => response.text())
    const { writer } = await served
    const large = 'x'.repeat(3 * highWaterMarkBytes)
    // Awaited one by one, as the registry's relay does: each frame waits for the drain of the last.
    for (let i = 0; i < 3; i++) expect(await writer.send({ data: large })).toBe('written')
    await writer.end()
    expect((await body).split(large).length).toBe(4)
    expect(writer.metrics().closeReason).toBe('ended')
  })

  it('still sends the status, headers and opening of a client it cuts in the tick of its first write', async () => {
    const hub = createEventHub({ keepAliveMs: 0 })
    let cut: { reason: unknown; outcomes: Promise<SendOutcome[]> } | undefined
    server = await listen((req, res) => {
      const writer = hub.node(req, res, { headers: { 'Content-Location': '/streams/s' } })
      // What a producer that does not await `send` does: three 1.5 MiB frames in the tick of the
      // opening. The third passes the 1 MiB mark while the first drains: the client is cut at once.
      const frames = [0, 1, 2].map(() => writer.send({ data: 'x'.repeat(1.5 * 1024 * 1024) }))
      cut = { reason: writer.signal.reason, outcomes: Promise.all(frames) }
    })
    const answered = await new Promise<{ status?: number; location?: unknown }>(
      (resolve, reject) => {
        const req = request(server?.origin ?? '', (response) => {
          response.resume()
          resolve({ status: response.statusCode, location: response.headers['content-location'] })
        })
        req.on('error', reject)
        req.end()
      },
    )
    expect(answered).toEqual({ status: 200, location: '/streams/s' })
    expect(cut?.reason).toBe('slow-client')
    expect(await cut?.outcomes).toEqual(['written', 'closed', 'closed'])
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

/**
 * A reader that takes at most `bytesPerSecond`, reading exact byte counts from a paused response.
 * `received()` is how much it has consumed so far, so the server side can see how far it got.
 */
function readSlowly(
  target: { url: string } | { socketPath: string },
  bytesPerSecond: number,
): { body: Promise<string>; received(): number } {
  let received = 0
  const body = new Promise<string>((resolve, reject) => {
    const options = 'url' in target ? new URL(target.url) : { socketPath: target.socketPath }
    request(options, (response) => {
      const chunks: string[] = []
      const perTick = Math.max(1, Math.round(bytesPerSecond / 20))
      response.setEncoding('latin1')
      const tick = setInterval(() => {
        let budget = perTick
        while (budget > 0 && response.readableLength > 0) {
          const chunk: string | null = response.read(Math.min(budget, response.readableLength))
          if (chunk === null) break
          chunks.push(chunk)
          received += chunk.length
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
  return { body, received: () => received }
}

interface SlowReaderRun {
  /** Whole body in order, as ids. */
  readonly ids: number[]
  readonly outcome: SendOutcome
  /** Most bytes Node held for the socket in userland at any send. */
  readonly maxBuffered: number
  /** Bytes the reader had consumed when the producer's last send resolved. */
  readonly receivedWhenProduced: number
}

/** Streams `totalBytes` in 1 KiB events, with default writer settings, to a reader at `rate`. */
async function streamToSlowReader(
  transport: 'tcp' | 'unix',
  totalBytes: number,
  rate: number,
): Promise<SlowReaderRun> {
  const hub = createEventHub({ keepAliveMs: 0 })
  let maxBuffered = 0
  let receivedWhenProduced = 0
  let reader: ReturnType<typeof readSlowly> | undefined
  let producer: Promise<SendOutcome> | undefined
  const handler: RequestListener = (req, res) => {
    const writer = hub.node(req, res)
    producer = (async () => {
      let outcome: SendOutcome = 'written'
      for (let i = 0; i * 1024 < totalBytes && outcome === 'written'; i++) {
        outcome = await writer.send({ id: i, data: KIB })
        maxBuffered = Math.max(maxBuffered, res.writableLength)
      }
      receivedWhenProduced = reader?.received() ?? 0
      await writer.end()
      return outcome
    })()
  }
  let body: string
  if (transport === 'tcp') {
    server = await listen(handler)
    reader = readSlowly({ url: server.origin }, rate)
    body = await reader.body
  } else {
    const socketPath = join(tmpdir(), `unbroken-slow-${process.pid}-${Date.now()}.sock`)
    const unixServer = createServer(handler)
    await new Promise<void>((resolve) => unixServer.listen(socketPath, resolve))
    try {
      reader = readSlowly({ socketPath }, rate)
      body = await reader.body
    } finally {
      await new Promise((resolve) => unixServer.close(resolve))
      rmSync(socketPath, { force: true })
    }
  }
  const ids = [...body.matchAll(/\nid: (\d+)\n/g)].map((m) => Number(m[1]))
  return { ids, outcome: (await producer) ?? 'closed', maxBuffered, receivedWhenProduced }
}

describe('slow reader', () => {
  // Loopback TCP auto-tunes its kernel buffers to several MB (about 3 MB measured here), so a few
  // MB over TCP are swallowed by the kernel at once and the writer never waits on the reader. A
  // Unix socket's buffer is fixed (net.core.wmem_default, ~200 KiB), so there 1 MiB at the issue's
  // ~100 KB/s keeps the producer paced by the reader for nearly the whole stream, in about 10 s.
  it('delivers 1 MiB at ~100 KB/s in order, the producer paced by the reader, userland buffering bounded', async () => {
    const totalBytes = 1024 * 1024
    const run = await streamToSlowReader('unix', totalBytes, 100 * 1024)
    expect(run.outcome).toBe('written')
    expect(run.ids).toEqual(Array.from({ length: totalBytes / 1024 }, (_, i) => i))
    expect(run.maxBuffered).toBeLessThanOrEqual(USERLAND_BOUND)
    // The point of the test: the producer could not run ahead. When its last send resolved, the
    // reader had already taken all but what the kernel and userland buffers can hold.
    expect(run.receivedWhenProduced).toBeGreaterThanOrEqual(totalBytes - 512 * 1024)
  }, 60_000)

  // The issue's own figure over TCP: 10 MB at ~100 KB/s takes about 100 s, so it is opt-in
  // (UNBROKEN_SOAK=1). It also shows the default drain timeout keeps a steady slow reader although
  // Linux reports the socket writable only after a third of its multi-MB buffer is free.
  it.runIf(process.env.UNBROKEN_SOAK === '1')(
    'delivers all of 10 MB at ~100 KB/s over TCP with userland buffering bounded',
    async () => {
      const totalBytes = 10 * 1024 * 1024
      const run = await streamToSlowReader('tcp', totalBytes, 100 * 1024)
      expect(run.outcome).toBe('written')
      expect(run.ids).toEqual(Array.from({ length: totalBytes / 1024 }, (_, i) => i))
      expect(run.maxBuffered).toBeLessThanOrEqual(USERLAND_BOUND)
      // Kernel buffers absorb a few MB on loopback; the rest was paced by the reader.
      expect(run.receivedWhenProduced).toBeGreaterThanOrEqual(totalBytes / 2)
    },
    300_000,
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
        const req = request(server?.origin ?? '', (response) => {
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
