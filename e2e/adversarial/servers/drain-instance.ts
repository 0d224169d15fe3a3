/**
 * One instance of a two-instance deployment on one Redis, shut down exactly as the server README's
 * recipe says: on SIGTERM, `streams.drain`, then close and exit. Every POST runs a producer that
 * sends `token 0` … `token N-1` (event `delta`), one every TOKEN_MS.
 *
 * Env: REDIS_URL, KEY_PREFIX, TOKENS, TOKEN_MS. Prints `{"port":N}` once listening.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { createRedisEventLog } from '@unbroken/redis'
import { createResumableStreams } from '@unbroken/server'

const log = createRedisEventLog({ url: process.env.REDIS_URL, keyPrefix: process.env.KEY_PREFIX })
// A short retry hint keeps the test quick; the recipe itself is the README's.
const streams = createResumableStreams({ log, retryMs: 100 })
const tokens = Number(process.env.TOKENS)
const tokenMs = Number(process.env.TOKEN_MS)

const server = createServer((req, res) =>
  streams.handle(req, res, async (stream) => {
    for (let i = 0; i < tokens; i += 1) {
      await stream.send({ event: 'delta', data: `token ${i}` })
      await sleep(tokenMs)
    }
  }),
).listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`)
})

process.on('SIGTERM', async () => {
  await streams.drain({ deadlineMs: 20_000, retryJitterMs: 300 })
  server.close()
  await log.close()
  process.exit(0)
})
