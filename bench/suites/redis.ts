// The Redis event log on a throwaway loopback redis-server: pipelined appends per second to one
// stream (against raw XADDs written straight to a socket, as the ceiling), and the
// latency an append adds before a tailing reader on a second log instance receives it.
// Targets (issue 5): ≥ 20k appended events/s for one stream, tail p99 ≤ 5 ms.

import { randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { connect } from 'node:net'
import { availableParallelism, loadavg } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import { createRedisEventLog } from '@unbroken/redis'
import { startRedisServer } from '@unbroken/test-kit'

const APPENDS = 100_000
const WINDOW = 1_000
const LATENCY_EVENTS = 5_000
const TARGET_APPENDS_PER_S = 20_000
const TARGET_P99_MS = 5

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN

/** Appends `APPENDS` events, `WINDOW` in flight at a time (node-redis pipelines a tick's calls). */
async function appendRate(url: string): Promise<number> {
  const log = createRedisEventLog({ url, keyPrefix: `bench:${randomUUID()}:` })
  const id = 'appends'
  await log.create(id)
  const started = performance.now()
  for (let sent = 0; sent < APPENDS; sent += WINDOW) {
    await Promise.all(
      Array.from({ length: WINDOW }, (_, i) =>
        log.append(id, { event: 'delta', data: `token ${sent + i}` }),
      ),
    )
  }
  const seconds = (performance.now() - started) / 1000
  await log.complete(id)
  await log.close()
  return APPENDS / seconds
}

/** RESP encoding of one command, for the raw ceiling below. */
const resp = (args: string[]) =>
  `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`

/**
 * The ceiling: plain XADDs with approximate MAXLEN written straight to a socket, `WINDOW` per
 * write, with no client library, script or check. Each reply is one bulk string (two lines).
 */
async function rawXaddRate(port: number): Promise<number> {
  const socket = connect(port, '127.0.0.1')
  await once(socket, 'connect')
  const key = `bench:${randomUUID()}:raw`
  let lines = 0
  let waiting: (() => void) | undefined
  let target = 0
  socket.on('data', (chunk: Buffer) => {
    for (const byte of chunk) if (byte === 10) lines += 1
    if (lines >= target) waiting?.()
  })
  const started = performance.now()
  for (let sent = 0; sent < APPENDS; sent += WINDOW) {
    let batch = ''
    for (let i = 0; i < WINDOW; i += 1) {
      batch += resp([
        'XADD',
        key,
        'MAXLEN',
        '~',
        '10000',
        '*',
        'e',
        'delta',
        'd',
        `token ${sent + i}`,
      ])
    }
    target = (sent + WINDOW) * 2
    const done = new Promise<void>((resolve) => {
      waiting = resolve
    })
    socket.write(batch)
    if (lines < target) await done
  }
  const seconds = (performance.now() - started) / 1000
  socket.end(resp(['DEL', key]))
  return APPENDS / seconds
}

/** Append → delivery on another instance's tail, one event per ms, as a fast LLM would send. */
async function tailLatency(url: string): Promise<number[]> {
  const keyPrefix = `bench:${randomUUID()}:`
  const producer = createRedisEventLog({ url, keyPrefix })
  const consumer = createRedisEventLog({ url, keyPrefix })
  const id = 'latency'
  await producer.create(id)
  const latencies: number[] = []
  const reading = (async () => {
    for await (const event of consumer.read(id)) {
      latencies.push(performance.now() - Number(event.data))
    }
  })()
  // Let the reader reach its live tail first, so every sample is a tail delivery.
  await producer.append(id, { event: 'warmup', data: String(performance.now()) })
  await sleep(100)
  latencies.length = 0
  for (let i = 0; i < LATENCY_EVENTS; i += 1) {
    void producer.append(id, { event: 'delta', data: String(performance.now()) })
    await sleep(1)
  }
  await producer.complete(id)
  await reading
  await Promise.all([producer.close(), consumer.close()])
  return latencies.sort((a, b) => a - b)
}

export default async function redisSuite(): Promise<void> {
  const redis = await startRedisServer()
  if (!redis) {
    console.log('skipped: no redis-server on PATH and no REDIS_URL')
    return
  }
  try {
    const raw = await rawXaddRate(redis.port)
    const appends = await appendRate(redis.url)
    const latencies = await tailLatency(redis.url)
    const p50 = percentile(latencies, 50)
    const p99 = percentile(latencies, 99)
    const verdict = (ok: boolean) => (ok ? 'PASS' : 'MISS')
    // The tail percentile moves with machine load; print it so a MISS can be read in context.
    const load = loadavg()[0]?.toFixed(2)
    console.log(`load average ${load} on ${availableParallelism()} cores`)
    console.table([
      {
        measure: `appends/s, one stream, ${WINDOW} in flight`,
        value: Math.round(appends),
        target: `≥ ${TARGET_APPENDS_PER_S}`,
        result: verdict(appends >= TARGET_APPENDS_PER_S),
      },
      {
        measure: 'raw pipelined XADD/s (ceiling)',
        value: Math.round(raw),
        target: `log = ${(appends / raw).toFixed(2)}× raw`,
        result: '',
      },
      {
        measure: `tail p50 ms (${latencies.length} events, 1/ms)`,
        value: Number(p50.toFixed(2)),
        target: '',
        result: '',
      },
      {
        measure: 'tail p99 ms',
        value: Number(p99.toFixed(2)),
        target: `≤ ${TARGET_P99_MS}`,
        result: verdict(p99 <= TARGET_P99_MS),
      },
    ])
  } finally {
    await redis.stop()
  }
}
