/**
 * One server instance run as a child process, so that a test can kill it (SIGKILL: a crash, no
 * goodbye) and start another on the same port. It serves our registry: `POST /streams` starts a
 * paced producer of the source events here; `POST /start` starts one and answers its URL as
 * JSON (the client then reads it through another instance); GET/DELETE resume and cancel.
 *
 * Env: PORT (0 for any), REDIS_URL and KEY_PREFIX for the Redis log (else the memory log),
 * LEASE_MS, EVENTS. Prints `{"port":N}` on one stdout line once listening. SIGTERM shuts down
 * gracefully, as in a deploy: open connections get a retryable `shutting-down` error first.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createRedisEventLog } from '@unbroken/redis'
import { createEventHub, createMemoryEventLog, createResumableStreams } from '@unbroken/server'
import { produce, sourceEvents } from './source'

const redisUrl = process.env.REDIS_URL
const log = redisUrl
  ? createRedisEventLog({
      url: redisUrl,
      keyPrefix: process.env.KEY_PREFIX,
      leaseMs: Number(process.env.LEASE_MS ?? 1_000),
    })
  : createMemoryEventLog()
// A retry hint of 100 ms: clients retry at a steady pace while the instance is down.
const hub = createEventHub({ retryMs: 100, keepAliveMs: 0 })
const registry = createResumableStreams({ log, hub })
// About 2 s of generation: long enough for a test to kill an instance mid-stream.
const producer = produce(sourceEvents(Number(process.env.EVENTS ?? 2_000)), {
  batch: 10,
  pauseMs: 10,
})

const server = createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/start') {
    void registry.start(producer).then(({ url }) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ url }))
    })
    return
  }
  void registry.handle(req, res, producer)
})
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`)
})

process.on('SIGTERM', async () => {
  server.close()
  await hub.closeAll({ reason: 'deploy', retryJitterMs: 0 })
  await registry.close()
  await log.close()
  process.exit(0)
})
