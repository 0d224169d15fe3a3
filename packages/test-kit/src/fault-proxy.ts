import { connect, createServer, type Socket } from 'node:net'
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises'
import { listen } from './listen'

/**
 * What a fault proxy does to one connection's downstream (server → client) bytes. Offsets count
 * downstream bytes delivered on that TCP connection; the upstream (client → server) direction is
 * always passed through untouched, because every fault we model is in the response path.
 */
export type FaultPlan = {
  /**
   * After exactly this many downstream bytes the connection is cut: the server side is destroyed
   * and the client gets a FIN, so it sees exactly `cutAt` bytes and then EOF mid-stream. (An RST
   * is not offered: on Linux a reader that has data queued sees it as EOF all the same.)
   */
  cutAt?: number | undefined
  /**
   * Cuts the connection this many bytes before the server's end of it: the proxy holds back the
   * last `cutBeforeEnd` bytes until the server has closed, then cuts instead of sending them. An
   * offset counted from the end reaches the terminal event whatever the unknown length of the
   * response head and transfer-coding framing; holding bytes back delays them, nothing more.
   */
  cutBeforeEnd?: number | undefined
  /** After this many downstream bytes, stop forwarding; the sockets stay open. */
  stallAt?: number | undefined
  /** How long a stall lasts; omitted means until `release()` or until either side closes. */
  stallMs?: number | undefined
  /** Deliver downstream in writes of at most this many bytes, each flushed before the next. */
  segmentBytes?: number | undefined
  /** Pause between segments; with `segmentBytes` this throttles the connection. */
  segmentDelayMs?: number | undefined
}

/** The first HTTP request head seen on a connection, which a plan may key on. */
export type RequestHead = {
  method: string
  path: string
  /** Header names in lower case. */
  headers: Record<string, string>
}

/** What the proxy knows and counts about one connection. */
export type ProxiedConnection = {
  /** 0-based, in order of acceptance. */
  readonly index: number
  readonly head: RequestHead | undefined
  readonly plan: FaultPlan
  /** Downstream bytes written to the client so far. */
  readonly delivered: number
  /** Downstream writes made: with `segmentBytes: 1` this equals `delivered`. */
  readonly writes: number
  /** Largest downstream backlog held by the proxy, in bytes (bounded by its high-water mark). */
  readonly peakQueued: number
  /** Downstream bytes received from the server so far. */
  readonly received: number
  /** Set once the proxy cut this connection, by plan or by `cutAll`. */
  readonly cut: boolean
  /** Set once both sockets are gone. */
  readonly closed: boolean
  /** Ends an open-ended stall: the held bytes, and the rest, flow again. */
  release(): void
  /** Cuts this connection now, whatever its plan. */
  cutNow(): void
}

export type FaultProxyOptions = {
  /** Port of the server on 127.0.0.1 to forward to. */
  targetPort: number
  /** A fixed plan for every connection, or one chosen from the connection's first request head. */
  plan?: FaultPlan | ((connection: { index: number; head: RequestHead | undefined }) => FaultPlan)
}

export type FaultProxy = {
  readonly port: number
  /** `http://127.0.0.1:<port>`. */
  readonly origin: string
  readonly connections: readonly ProxiedConnection[]
  /** Cuts every open connection now, whatever its plan. */
  cutAll(): void
  /** Stops listening and destroys every connection. */
  close(): Promise<void>
}

// The proxy pauses the server side above this backlog, so a slow (throttled or stalled) client
// pushes back on the server as it would through a real network, instead of the proxy buffering
// without bound and hiding the server's backpressure handling.
const HIGH_WATER_MARK = 64 * 1024
const MAX_HEAD_BYTES = 64 * 1024
const HEAD_END = '\r\n\r\n'

/**
 * Starts a loopback TCP proxy in front of `targetPort` that injects faults into the response path:
 * a cut at a chosen byte offset (from the start or from the end), a stall, a throttle, and small
 * (down to 1-byte) segments. The plan for a connection is chosen when its first HTTP request head has arrived, so
 * many concurrent runs can share one proxy and still get their own seeded faults.
 */
export async function createFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const connections: Connection[] = []
  const listening = await listen(
    createServer((client) => {
      connections.push(new Connection(connections.length, client, options))
    }),
  )
  return {
    port: listening.port,
    origin: listening.origin,
    connections,
    cutAll() {
      for (const connection of connections) connection.cutNow()
    },
    // Destroying the client sockets destroys each connection, its server side included.
    close: listening.close,
  }
}

class Connection implements ProxiedConnection {
  head: RequestHead | undefined
  plan: FaultPlan = {}
  delivered = 0
  writes = 0
  peakQueued = 0
  received = 0
  cut = false
  closed = false

  readonly #client: Socket
  readonly #upstream: Socket
  readonly #queue: Buffer[] = []
  #queued = 0
  #upstreamEnded = false
  #planned = false
  #released = false
  #headBytes = ''
  #wake: (() => void) | undefined
  readonly #options: FaultProxyOptions
  readonly index: number

  constructor(index: number, client: Socket, options: FaultProxyOptions) {
    this.index = index
    this.#options = options
    this.#client = client
    this.#upstream = connect(options.targetPort, '127.0.0.1')
    client.setNoDelay(true)
    this.#upstream.setNoDelay(true)

    client.on('data', (chunk: Buffer) => {
      if (!this.#planned) this.#readHead(chunk)
      if (!this.#upstream.write(chunk)) {
        client.pause()
        this.#upstream.once('drain', () => client.resume())
      }
    })
    client.on('end', () => this.#upstream.end())
    client.on('error', () => this.destroy())
    client.on('close', () => this.destroy())

    this.#upstream.on('data', (chunk: Buffer) => {
      this.received += chunk.length
      this.#queue.push(chunk)
      this.#queued += chunk.length
      this.peakQueued = Math.max(this.peakQueued, this.#queued)
      if (this.#queued > this.#highWaterMark()) this.#upstream.pause()
      this.#notify()
    })
    this.#upstream.on('end', () => {
      this.#upstreamEnded = true
      this.#notify()
    })
    // A server-side error or close ends the downstream once what was received is delivered:
    // that is what a client sees when a server dies after its last write reached the wire.
    this.#upstream.on('error', () => {
      this.#upstreamEnded = true
      this.#notify()
    })
    this.#upstream.on('close', () => {
      this.#upstreamEnded = true
      this.#notify()
    })
    void this.#pump()
  }

  /** Cuts the connection now, regardless of its plan. */
  cutNow() {
    if (this.closed || this.cut) return
    this.cut = true
    this.#upstream.destroy()
    this.#client.end()
    this.#notify()
  }

  release() {
    this.#released = true
    this.#notify()
  }

  destroy() {
    if (this.closed) return
    this.closed = true
    this.#client.destroy()
    this.#upstream.destroy()
    this.#notify()
  }

  #readHead(chunk: Buffer) {
    this.#headBytes += chunk.toString('latin1')
    const end = this.#headBytes.indexOf(HEAD_END)
    if (end === -1 && this.#headBytes.length < MAX_HEAD_BYTES) return
    this.head = end === -1 ? undefined : parseHead(this.#headBytes.slice(0, end))
    this.#headBytes = ''
    const plan = this.#options.plan
    this.plan =
      typeof plan === 'function' ? plan({ index: this.index, head: this.head }) : (plan ?? {})
    this.#planned = true
    this.#notify()
  }

  #notify() {
    const wake = this.#wake
    this.#wake = undefined
    wake?.()
  }

  #waitForChange(): Promise<void> {
    return new Promise((resolve) => {
      this.#wake = resolve
    })
  }

  #done() {
    return this.closed || this.cut
  }

  /** The backlog above which the server is paused: bytes held back for `cutBeforeEnd` are extra, or the proxy would never see the end. */
  #highWaterMark() {
    return HIGH_WATER_MARK + (this.plan.cutBeforeEnd ?? 0)
  }

  /** Moves downstream bytes from the queue to the client, applying the plan's faults. */
  async #pump() {
    while (!this.#planned && !this.#done()) await this.#waitForChange()
    const { cutAt, cutBeforeEnd, stallAt, stallMs, segmentBytes, segmentDelayMs = 0 } = this.plan
    const heldBack = cutBeforeEnd ?? 0
    let stalled = false
    while (!this.#done()) {
      if (cutAt !== undefined && this.delivered >= cutAt) {
        this.cutNow()
        return
      }
      if (!stalled && stallAt !== undefined && this.delivered >= stallAt) {
        stalled = true
        if (stallMs === undefined) {
          // Hold the bytes until the test releases them or one side gives up and closes. A
          // paused socket cannot see the server close, so the test, not the proxy, decides.
          while (!this.#done() && !this.#released) await this.#waitForChange()
        } else await sleep(stallMs)
        continue
      }
      if (cutBeforeEnd !== undefined && this.#upstreamEnded && this.#queued <= cutBeforeEnd) {
        this.cutNow()
        return
      }
      const chunk = this.#queue[0]
      if (chunk === undefined && this.#upstreamEnded) {
        this.#client.end()
        return
      }
      if (chunk === undefined || this.#queued <= heldBack) {
        await this.#waitForChange()
        continue
      }
      let size = Math.min(chunk.length, this.#queued - heldBack)
      if (segmentBytes !== undefined) size = Math.min(size, segmentBytes)
      if (cutAt !== undefined) size = Math.min(size, cutAt - this.delivered)
      if (!stalled && stallAt !== undefined) size = Math.min(size, stallAt - this.delivered)
      const piece = size === chunk.length ? chunk : chunk.subarray(0, size)
      if (size === chunk.length) this.#queue.shift()
      else this.#queue[0] = chunk.subarray(size)
      this.#queued -= size
      if (this.#queued <= this.#highWaterMark() && this.#upstream.isPaused())
        this.#upstream.resume()
      await this.#write(piece)
      if (segmentBytes !== undefined) {
        // Give the reader a turn between segments, so it really receives them one at a time.
        if (segmentDelayMs > 0) await sleep(segmentDelayMs)
        else await nextTurn()
      }
    }
  }

  #write(piece: Buffer): Promise<void> {
    this.delivered += piece.length
    this.writes++
    return new Promise((resolve) => {
      // The callback runs once the bytes are handed to the kernel, or with an error once the
      // client is gone; either way the pump moves on and notices `closed`.
      this.#client.write(piece, () => resolve())
    })
  }
}

function parseHead(text: string): RequestHead {
  const [requestLine = '', ...lines] = text.split('\r\n')
  const [method = '', path = ''] = requestLine.split(' ')
  const headers: Record<string, string> = {}
  for (const line of lines) {
    const colon = line.indexOf(':')
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
  }
  return { method, path, headers }
}
