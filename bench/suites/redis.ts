// The Redis event log on a throwaway loopback redis-server: pipelined appends per second to one
// stream (against raw XADDs written straight to a socket, as the ceiling), and the latency an
// append adds before a tailing reader on a second log instance receives it. Events carry the
// payload module's chunks. Targets (issue 5): ≥ 20k appended events/s for one stream, tail p99
// ≤ 5 ms.

import { randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { connect } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { createRedisEventLog } from '@unbroken/redis'
import { startRedisServer } from '@unbroken/test-kit'
import { fmt, interleave, ratio, stat, type Target, table, targets } from '../harness'
import { chunkData } from '../payload'

const APPENDS = 20_000
const WINDOW = 1_000
const LATENCY_EVENTS = 1_000

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
      Array.from({ length: WINDOW }, (_, i) => log.append(id, { data: chunkData(sent + i) })),
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
      batch += resp(['XADD', key, 'MAXLEN', '~', '10000', '*', 'd', chunkData(sent + i)])
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

export default async function redisSuite(): Promise<Target[]> {
  const redis = await startRedisServer()
  if (!redis) {
    console.log('skipped: no redis-server on PATH and no REDIS_URL')
    return []
  }
  try {
    const rates = await interleave({
      contenders: ['log', 'raw XADD'],
      label: 'appends',
      measure: (c) => (c === 'log' ? appendRate(redis.url) : rawXaddRate(redis.port)),
    })
    const p50: number[] = []
    const p99: number[] = []
    await interleave({
      contenders: ['tail'],
      label: 'tail latency',
      measure: async (_, round) => {
        const latencies = await tailLatency(redis.url)
        if (round >= 0) {
          p50.push(percentile(latencies, 50))
          p99.push(percentile(latencies, 99))
        }
        return 0
      },
    })
    const log = rates.get('log') ?? []
    const raw = rates.get('raw XADD') ?? []
    table([
      {
        measure: `appends/s, one stream, ${WINDOW} in flight`,
        median: fmt(stat(log).median),
        range: `${fmt(stat(log).low)}–${fmt(stat(log).high)}`,
      },
      {
        measure: 'raw pipelined XADD/s (ceiling)',
        median: fmt(stat(raw).median),
        range: `${fmt(stat(raw).low)}–${fmt(stat(raw).high)}`,
      },
      {
        measure: 'log vs raw XADD',
        median: fmt(ratio(log, raw).median, 2),
        range: `${fmt(ratio(log, raw).low, 2)}–${fmt(ratio(log, raw).high, 2)}`,
      },
      ...(
        [
          ['tail p50 ms', p50],
          ['tail p99 ms', p99],
        ] as const
      ).map(([measure, values]) => ({
        measure: `${measure} (${LATENCY_EVENTS} events at 1/ms)`,
        median: fmt(stat(values).median, 2),
        range: `${fmt(stat(values).low, 2)}–${fmt(stat(values).high, 2)}`,
      })),
    ])
    const goals: Target[] = [
      { name: 'Redis log appends/s, one stream', value: stat(log), atLeast: 20_000, unit: '/s' },
      { name: 'Redis append → tail p99', value: stat(p99), atMost: 5, unit: ' ms' },
    ]
    targets(goals)
    return goals
  } finally {
    await redis.stop()
  }
}
