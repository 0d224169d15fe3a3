import { once } from 'node:events'
import { connect, createServer, type Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { createFaultProxy, type FaultPlan, type FaultProxy } from './fault-proxy'
import { listen } from './listen'
import { waitFor } from './wait'

// A raw TCP "server" that answers the first request head with a fixed payload, so every byte
// offset the proxy counts is known exactly.
type Source = { port: number; close(): Promise<void>; sockets: Socket[]; requests: string[] }

async function startSource(payload: Buffer, { end = true } = {}): Promise<Source> {
  const sockets: Socket[] = []
  const requests: string[] = []
  const listening = await listen(
    createServer((socket) => {
      sockets.push(socket)
      let head = ''
      socket.on('error', () => {})
      socket.on('data', (chunk) => {
        head += chunk.toString('latin1')
        if (!head.includes('\r\n\r\n')) return
        requests.push(head)
        head = ''
        if (end) socket.end(payload)
        else socket.write(payload)
      })
    }),
  )
  return { port: listening.port, close: listening.close, sockets, requests }
}

type Received = { bytes: Buffer; chunks: number; error: NodeJS.ErrnoException | undefined }

type Request = { socket: Socket; chunks: Buffer[]; received: Promise<Received> }

function request(port: number, path = '/'): Request {
  const socket = connect(port, '127.0.0.1')
  const chunks: Buffer[] = []
  socket.write(`GET ${path} HTTP/1.1\r\nHost: test\r\nX-Run: 7\r\n\r\n`)
  socket.on('data', (chunk: Buffer) => chunks.push(chunk))
  const received = new Promise<Received>((resolve) => {
    let error: NodeJS.ErrnoException | undefined
    socket.on('error', (e) => {
      error = e
    })
    socket.on('close', () =>
      resolve({ bytes: Buffer.concat(chunks), chunks: chunks.length, error }),
    )
  })
  return { socket, chunks, received }
}

function bytes(size: number): Buffer {
  const out = Buffer.alloc(size)
  for (let i = 0; i < size; i++) out[i] = (i * 7 + (i >> 8)) & 0xff
  return out
}

let proxy: FaultProxy | undefined
let source: Source | undefined

afterEach(async () => {
  await proxy?.close()
  await source?.close()
  proxy = undefined
  source = undefined
})

async function setup(payload: Buffer, plan?: FaultPlan, sourceOptions?: { end?: boolean }) {
  source = await startSource(payload, sourceOptions)
  proxy = await createFaultProxy({ targetPort: source.port, plan })
  return { source, proxy }
}

describe('fault proxy', () => {
  it('passes both directions through unchanged without a plan', async () => {
    const payload = bytes(200_000)
    const { proxy, source } = await setup(payload)
    const { bytes: got, error } = await request(proxy.port, '/plain').received
    expect(error).toBeUndefined()
    expect(got.equals(payload)).toBe(true)
    expect(source.requests).toEqual(['GET /plain HTTP/1.1\r\nHost: test\r\nX-Run: 7\r\n\r\n'])
  })

  it('cuts with a FIN after exactly cutAt bytes', async () => {
    const payload = bytes(100_000)
    const { proxy } = await setup(payload, { cutAt: 12_345 })
    const { bytes: got, error } = await request(proxy.port).received
    expect(error).toBeUndefined()
    expect(got.equals(payload.subarray(0, 12_345))).toBe(true)
    expect(proxy.connections[0]?.cut).toBe(true)
  })

  it('cuts cutBeforeEnd bytes before the end, holding them back until the server closed', async () => {
    const payload = bytes(100_000)
    const { proxy } = await setup(payload, { cutBeforeEnd: 80_000 })
    const { bytes: got, error } = await request(proxy.port).received
    expect(error).toBeUndefined()
    expect(got.equals(payload.subarray(0, 20_000))).toBe(true)
    expect(proxy.connections[0]?.cut).toBe(true)
  })

  it('closes the server side of a cut connection', async () => {
    const { proxy, source } = await setup(bytes(100_000), { cutAt: 10 }, { end: false })
    await request(proxy.port).received
    const serverSide = source.sockets[0]
    if (serverSide === undefined) throw new Error('the source saw no connection')
    if (!serverSide.closed) await once(serverSide, 'close')
    expect(serverSide.closed).toBe(true)
  })

  it('stalls for good after stallAt bytes while the server has sent everything', async () => {
    const payload = bytes(32_000)
    const { proxy } = await setup(payload, { stallAt: 1_000 }, { end: false })
    const client = request(proxy.port)
    const connection = await waitFor(() => proxy.connections[0])
    await waitFor(() => connection.received === payload.length)
    await waitFor(() => client.chunks.reduce((n, c) => n + c.length, 0) === 1_000)
    expect(connection.delivered).toBe(1_000)
    client.socket.destroy()
    await client.received
  })

  it('releases the server side when the client gives up on a stalled connection', async () => {
    const { proxy, source } = await setup(bytes(32_000), { stallAt: 1_000 }, { end: false })
    const client = request(proxy.port)
    const serverSide = await waitFor(() => source.sockets[0])
    await waitFor(() => proxy.connections[0]?.delivered === 1_000)
    client.socket.destroy()
    if (!serverSide.closed) await once(serverSide, 'close')
    expect(serverSide.closed).toBe(true)
  })

  it('delivers everything after a timed stall ends', async () => {
    const payload = bytes(32_000)
    const { proxy } = await setup(payload, { stallAt: 10, stallMs: 50 })
    const { bytes: got } = await request(proxy.port).received
    expect(got.equals(payload)).toBe(true)
  })

  it('delivers everything once an open-ended stall is released', async () => {
    const payload = bytes(32_000)
    const { proxy } = await setup(payload, { stallAt: 100 })
    const client = request(proxy.port)
    const connection = await waitFor(() => proxy.connections[0])
    await waitFor(() => connection.received === payload.length)
    expect(connection.delivered).toBe(100)
    connection.release()
    const { bytes: got } = await client.received
    expect(got.equals(payload)).toBe(true)
  })

  it('delivers 1-byte segments, one write each, with multi-byte text intact', async () => {
    const payload = Buffer.from('héllo wörld ✓ 😀 日本語 '.repeat(40))
    const { proxy } = await setup(payload, { segmentBytes: 1 })
    const { bytes: got } = await request(proxy.port).received
    expect(got.toString('utf8')).toBe(payload.toString('utf8'))
    expect(proxy.connections[0]?.writes).toBe(payload.length)
  })

  it('throttles without buffering more than its high-water mark', async () => {
    const payload = bytes(1_000_000)
    const { proxy } = await setup(payload, { segmentBytes: 16_384, segmentDelayMs: 1 })
    const { bytes: got } = await request(proxy.port).received
    expect(got.equals(payload)).toBe(true)
    // 64 KiB mark plus at most one socket read (64 KiB) that arrived before the pause.
    expect(proxy.connections[0]?.peakQueued).toBeLessThanOrEqual(128 * 1024)
    expect(proxy.connections[0]?.writes).toBeGreaterThanOrEqual(Math.ceil(1_000_000 / 16_384))
  })

  it('chooses each connection plan from its request head', async () => {
    const payload = bytes(10_000)
    source = await startSource(payload)
    proxy = await createFaultProxy({
      targetPort: source.port,
      plan: ({ head }) =>
        head?.path === '/cut' && head.headers['x-run'] === '7' ? { cutAt: 5 } : {},
    })
    const [cut, whole] = await Promise.all([
      request(proxy.port, '/cut').received,
      request(proxy.port, '/whole').received,
    ])
    expect(cut.bytes.length).toBe(5)
    expect(whole.bytes.equals(payload)).toBe(true)
  })

  it('closes both sides of every open connection on close', async () => {
    const { proxy, source } = await setup(bytes(1_000), {}, { end: false })
    const client = request(proxy.port)
    const serverSide = await waitFor(() => source.sockets[0])
    await waitFor(() => proxy.connections[0]?.delivered === 1_000)
    await proxy.close()
    if (!serverSide.closed) await once(serverSide, 'close')
    expect((await client.received).bytes.length).toBe(1_000)
    expect(proxy.connections[0]?.closed).toBe(true)
  })

  it('cuts every open connection on cutAll', async () => {
    const { proxy } = await setup(bytes(1_000), {}, { end: false })
    const clients = [request(proxy.port), request(proxy.port)]
    await waitFor(
      () => proxy.connections.length === 2 && proxy.connections.every((c) => c.delivered === 1_000),
    )
    proxy.cutAll()
    const results = await Promise.all(clients.map((c) => c.received))
    expect(results.map((r) => r.bytes.length)).toEqual([1_000, 1_000])
  })
})
