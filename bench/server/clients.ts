// Loopback clients for the server suite. They de-chunk with node:http and count SSE blocks by
// their blank-line terminator in the raw bytes (no decoding), so every contender is judged by the
// same delivered bytes, not by its own bookkeeping, and the client costs all contenders alike.
import { Agent, type ClientRequest, request } from 'node:http'

const agent = new Agent({ keepAlive: false, maxSockets: Number.POSITIVE_INFINITY })
const BLANK_LINE = Buffer.from('\n\n')

/** What a contender is asked: the resumable registry starts its stream with a POST. */
export interface Target {
  readonly port: number
  readonly method: 'GET' | 'POST'
}

/** Reads one stream to its end; resolves the number of SSE blocks. */
function read(
  { port, method }: Target,
  path: string,
  onChunk?: (chunk: Buffer) => void,
): Promise<number> {
  let blocks = 0
  // A blank line can be split across chunks: whether the last byte was an LF that ended a line.
  let endedWithLF = false
  return new Promise<number>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, agent }, (response) => {
      response.on('data', (chunk: Buffer) => {
        let blankEnd = -1
        if (endedWithLF && chunk[0] === 10) {
          blocks++
          blankEnd = 0
        }
        for (let at = chunk.indexOf(BLANK_LINE, blankEnd + 1); at !== -1; ) {
          blocks++
          blankEnd = at + 1
          at = chunk.indexOf(BLANK_LINE, at + 2)
        }
        const last = chunk.length - 1
        endedWithLF = chunk[last] === 10 && blankEnd !== last
        onChunk?.(chunk)
      })
      response.on('end', () => resolve(blocks))
      response.on('error', reject)
    })
    req.on('error', reject)
    req.end()
  })
}

/** Events per second for `clients` parallel streams of `n` events each (deliveries/s overall). */
export async function throughput(target: Target, clients: number, n: number): Promise<number> {
  const started = performance.now()
  // Settled, not `all`: a failed stream must not leave the others running into the next round.
  const results = await Promise.allSettled(
    Array.from({ length: clients }, () => read(target, `/tp?n=${n}`)),
  )
  const elapsed = performance.now() - started
  for (const result of results) {
    if (result.status === 'rejected') throw result.reason
    // The opening, an id-only cursor block and `done` may come on top of the n events.
    if (result.value < n) throw new Error(`a client got ${result.value} of ${n} events`)
  }
  return (clients * n) / (elapsed / 1000)
}

// The trailing comma proves the number is whole (a chunk may end inside it).
const CREATED = /"created":(\d+),/g

/** Send-to-receive latency (ms) of one event per ms; each event's `created` is its send time in µs. */
export async function latency(target: Target, n: number): Promise<number[]> {
  const samples: number[] = []
  await read(target, `/lat?n=${n}`, (chunk) => {
    const received = Number(process.hrtime.bigint() / 1000n)
    // An event split across chunks is skipped: a few missing samples do not move a percentile.
    for (const match of chunk.toString('latin1').matchAll(CREATED))
      samples.push((received - Number(match[1])) / 1000)
  })
  return samples
}

/** Opens `count` idle streams and resolves once each has received its first bytes. */
export async function openIdle(target: Target, count: number): Promise<() => void> {
  const requests: ClientRequest[] = []
  const opened: Array<Promise<void>> = []
  for (let i = 0; i < count; i++) {
    opened.push(
      new Promise<void>((resolve, reject) => {
        const req = request(
          { host: '127.0.0.1', port: target.port, path: '/idle', method: target.method, agent },
          (response) => {
            response.once('data', () => resolve())
            response.on('data', () => {})
            response.on('error', () => {})
          },
        )
        req.on('error', reject)
        req.end()
        requests.push(req)
      }),
    )
    // Opening thousands at once overflows the listen backlog; batches of 100 keep it honest.
    if (i % 100 === 99) await Promise.all(opened.slice(-100))
  }
  await Promise.all(opened)
  return () => {
    for (const req of requests) req.destroy()
  }
}
