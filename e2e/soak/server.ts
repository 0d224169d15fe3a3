/**
 * The soak's server, in its own process so that its RSS is its own: our registry over the memory
 * log. `POST /streams?until=T&intervalMs=I` starts a producer that appends one event every I ms
 * until epoch ms T, then ends with `done` carrying `{"events":N}`. `GET /stats[?gc=1]` answers
 * RSS, heap and counters (collecting garbage first with `gc=1`; run with --expose-gc).
 *
 * Env: TTL_MS (how long a finished stream stays in the log). Prints `{"port":N}` once listening.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import {
  createEventHub,
  createMemoryEventLog,
  createResumableStreams,
  type Producer,
} from '@unbroken/server'
import { soakData } from './data'

const log = createMemoryEventLog({ ttlMs: Number(process.env.TTL_MS ?? 5_000) })
const hub = createEventHub({ retryMs: 0, keepAliveMs: 5_000 })
const registry = createResumableStreams({ log, hub, maxConcurrentStreams: 10_000 })

const producer =
  (until: number, intervalMs: number): Producer =>
  async (stream) => {
    let sent = 0
    while (Date.now() < until && !stream.signal.aborted) {
      await stream.send({ event: 'delta', data: soakData(sent) })
      sent++
      await sleep(intervalMs)
    }
    await stream.send({ event: 'done', data: JSON.stringify({ events: sent }) })
  }

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://soak')
  if (url.pathname === '/stats') {
    if (url.searchParams.has('gc')) (globalThis as { gc?: () => void }).gc?.()
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(
      JSON.stringify({
        rss: process.memoryUsage().rss,
        heapUsed: process.memoryUsage().heapUsed,
        active: registry.active,
        hub: hub.metrics(),
      }),
    )
    return
  }
  const until = Number(url.searchParams.get('until') ?? 0)
  void registry.handle(req, res, producer(until, Number(url.searchParams.get('intervalMs') ?? 100)))
})
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`)
})
