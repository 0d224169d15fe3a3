/**
 * One server instance for the multi-instance tests: an HTTP server on 127.0.0.1 serving the
 * resumable-stream registry over a Redis event log. Every POST runs a producer that appends
 * `token 0` … `token N-1` (event `delta`) one every TOKEN_MS, then ends with `done`.
 *
 * Env: REDIS_URL (required), KEY_PREFIX, LEASE_MS, TOKENS (default 100), TOKEN_MS (default 10).
 * Prints `{"port":N}` on one stdout line once listening.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { createResumableStreams } from '@unbroken/server'
import { createRedisEventLog } from '../src/index'

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback)

const log = createRedisEventLog({
  url: process.env.REDIS_URL,
  keyPrefix: process.env.KEY_PREFIX,
  leaseMs: env('LEASE_MS', 5_000),
})
const streams = createResumableStreams({ log })
const tokens = env('TOKENS', 100)
const tokenMs = env('TOKEN_MS', 10)

const server = createServer((req, res) => {
  void streams.handle(req, res, async (stream) => {
    for (let i = 0; i < tokens && !stream.signal.aborted; i += 1) {
      await stream.send({ event: 'delta', data: `token ${i}` })
      await sleep(tokenMs)
    }
  })
})
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo
  process.stdout.write(`${JSON.stringify({ port })}\n`)
})

process.on('SIGTERM', () => {
  server.closeAllConnections()
  server.close()
  void streams.close().finally(() => process.exit(0))
})
