/**
 * Issue 9 #7: the documented shutdown loses nothing. Two real instances share one redis-server
 * behind a round-robin balancer; 20 streams run on instance A, which gets SIGTERM mid-stream and
 * shuts down with the README's recipe (`streams.drain`). Every stream completes, whole, in order.
 */
import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, request, type ServerResponse } from 'node:http'
import { createEventStream } from '@unbroken/client'
import {
  type Child,
  type Listening,
  listen,
  startChild,
  startRedisServer,
} from '@unbroken/test-kit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { collect } from '../support/read'

const STREAMS = 20
const TOKENS = 60
const TOKEN_MS = 50

/**
 * A round-robin balancer in front of `ports`: each request goes to the next port, and to the one
 * after when that port refuses the connection (an instance that has exited), as a load balancer's
 * health check would. POSTs carry no body here, so a request can be re-sent as it is.
 */
function balance(ports: () => readonly number[], firstPost: () => number) {
  let next = 0
  return (req: IncomingMessage, res: ServerResponse) => {
    const candidates = req.method === 'POST' ? [firstPost(), ...ports()] : ports()
    const start = req.method === 'POST' ? 0 : next++
    const attempt = (n: number) => {
      if (n >= candidates.length) {
        res.writeHead(502).end()
        return
      }
      const port = candidates[(start + n) % candidates.length]
      const upstream = request(
        { host: '127.0.0.1', port, method: req.method, path: req.url, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers)
          answer.pipe(res)
          res.on('close', () => answer.destroy())
        },
      )
      upstream.on('error', (error: NodeJS.ErrnoException) => {
        if (error.code === 'ECONNREFUSED' && !res.headersSent) attempt(n + 1)
        else res.destroy()
      })
      upstream.end()
    }
    attempt(0)
  }
}

const redis = await startRedisServer()
const tokens = Array.from({ length: TOKENS }, (_, i) => `token ${i}`)

describe.skipIf(!redis)(
  'a SIGTERM of the serving instance, with the README shutdown recipe',
  () => {
    let a: Child
    let b: Child
    let balancer: Listening
    beforeAll(async () => {
      const env = {
        REDIS_URL: redis?.url ?? '',
        KEY_PREFIX: `drain:${randomUUID()}:`,
        TOKENS: String(TOKENS),
        TOKEN_MS: String(TOKEN_MS),
      }
      const script = 'e2e/adversarial/servers/drain-instance.ts'
      ;[a, b] = await Promise.all([startChild(script, env), startChild(script, env)])
      // Streams start on A (a POST goes to B only once A refuses); resumes go round-robin.
      balancer = await listen(
        createServer(
          balance(
            () => [a.port, b.port],
            () => a.port,
          ),
        ),
      )
    }, 60_000)
    afterAll(async () => {
      await balancer?.close()
      await Promise.all([a?.kill(), b?.kill()])
      await redis?.stop()
    })

    it('completes 20 of 20 streams whole', { timeout: 90_000 }, async () => {
      const clients = Array.from({ length: STREAMS }, () =>
        createEventStream(`${balancer.origin}/streams`, {
          method: 'POST',
          backoff: { initialMs: 50, maxMs: 500 },
          maxAttempts: 20,
        }),
      )
      const reading = clients.map((client, i) =>
        collect(client, { timeoutMs: 60_000, what: `stream ${i}` }),
      )
      // Every stream is under way on A before the signal.
      await Promise.all(
        clients.map(
          (client) =>
            new Promise<void>((resolve) => {
              const unsubscribe = client.subscribe(() => {
                if (client.getSnapshot().events > 0) {
                  unsubscribe()
                  resolve()
                }
              })
            }),
        ),
      )
      const stopped = a.stop()
      const results = await Promise.all(reading)
      await stopped
      const summary = results.map((r) => ({
        end: r.snapshot.closeReason,
        error: r.error === undefined ? undefined : String(r.error),
        deltas: r.events.filter((e) => e.type === 'delta').map((e) => e.data),
      }))
      expect(summary).toEqual(
        results.map(() => ({ end: 'done', error: undefined, deltas: tokens })),
      )
      // The signal really cut the streams: each client had to reconnect at least once.
      expect(results.every((r) => r.snapshot.reconnects >= 1)).toBe(true)
    })
  },
)
