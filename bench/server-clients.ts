// Loopback clients for the server suite. They de-chunk with node:http and count SSE blocks by
// their blank-line terminator (carrying one char across chunks), so every contender is judged by
// the same delivered bytes, not by its own bookkeeping.
import { Agent, type ClientRequest, request } from 'node:http'

const agent = new Agent({ keepAlive: false, maxSockets: Number.POSITIVE_INFINITY })

/** Reads one stream to its end; resolves the number of SSE blocks and the elapsed ms. */
function read(
  url: string,
  onChunk?: (chunk: string) => void,
): { done: Promise<{ blocks: number }>; req: ClientRequest } {
  let blocks = 0
  let carry = ''
  let resolve: (value: { blocks: number }) => void = () => {}
  let reject: (error: unknown) => void = () => {}
  const done = new Promise<{ blocks: number }>((ok, fail) => {
    resolve = ok
    reject = fail
  })
  const req = request(url, { agent }, (response) => {
    response.setEncoding('latin1')
    response.on('data', (chunk: string) => {
      const text = carry + chunk
      let at = text.indexOf('\n\n')
      while (at !== -1) {
        blocks++
        at = text.indexOf('\n\n', at + 2)
      }
      carry = text.endsWith('\n') ? '\n' : ''
      onChunk?.(chunk)
    })
    response.on('end', () => resolve({ blocks }))
    response.on('error', reject)
  })
  req.on('error', reject)
  req.end()
  return { done, req }
}

/** Events per second for `clients` parallel streams of `n` events each (deliveries/s overall). */
export async function throughput(port: number, clients: number, n: number): Promise<number> {
  const started = performance.now()
  const results = await Promise.all(
    Array.from({ length: clients }, () => read(`http://127.0.0.1:${port}/tp?n=${n}`).done),
  )
  const elapsed = performance.now() - started
  for (const { blocks } of results) {
    // The opening block and `done` come on top of the n events.
    if (blocks < n) throw new Error(`client got ${blocks} of ${n} events`)
  }
  return (clients * n) / (elapsed / 1000)
}

/** p50/p99 of send-to-receive latency (ms) for one event per ms, using the shared monotonic clock. */
export async function latency(port: number, n: number): Promise<{ p50: number; p99: number }> {
  const samples: number[] = []
  let carry = ''
  await read(`http://127.0.0.1:${port}/lat?n=${n}`, (chunk) => {
    const received = process.hrtime.bigint()
    const text = carry + chunk
    const blocks = text.split('\n\n')
    carry = blocks.pop() ?? ''
    for (const block of blocks) {
      const match = /(?:^|\n)data: ?(\d{6,})/.exec(block)
      if (match?.[1] !== undefined) samples.push(Number(received - BigInt(match[1])) / 1e6)
    }
  }).done
  samples.sort((a, b) => a - b)
  const at = (q: number) =>
    samples[Math.min(samples.length - 1, Math.floor(q * samples.length))] ?? Number.NaN
  return { p50: at(0.5), p99: at(0.99) }
}

/** Opens `count` idle streams and resolves once each has received its first bytes. */
export async function openIdle(port: number, count: number): Promise<() => void> {
  const requests: ClientRequest[] = []
  const opened: Array<Promise<void>> = []
  for (let i = 0; i < count; i++) {
    opened.push(
      new Promise<void>((resolve, reject) => {
        const req = request(`http://127.0.0.1:${port}/idle`, { agent }, (response) => {
          response.once('data', () => resolve())
          response.on('data', () => {})
          response.on('error', () => {})
        })
        req.on('error', (error) => reject(error))
        req.end()
        requests.push(req)
      }),
    )
    // Opening thousands at once overflows the listen backlog; small batches keep it honest.
    if (i % 100 === 99) await Promise.all(opened.slice(-100))
  }
  await Promise.all(opened)
  return () => {
    for (const req of requests) req.destroy()
  }
}
