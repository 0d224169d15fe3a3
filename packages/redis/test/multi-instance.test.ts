/**
 * Two server processes share one real redis-server. A client streaming from instance A drops its
 * connection and resumes through instance B; a SIGKILLed producer surfaces as `producer-lost`.
 */
import { randomUUID } from 'node:crypto'
import {
  type Child,
  readSse,
  type SseEvent,
  startChild,
  startRedisServer,
} from '@unbroken/test-kit'
import { afterAll, afterEach, describe, expect, it } from 'vitest'

const redis = await startRedisServer()
afterAll(() => redis?.stop())

const children: Child[] = []
afterEach(async () => {
  await Promise.all(children.splice(0).map((child) => child.kill()))
})

/** Runs `instance.ts` in a child process (killed after the test) once it announced its port. */
async function startInstance(env: Record<string, string>): Promise<Child> {
  const child = await startChild(`${import.meta.dirname}/instance.ts`, env)
  children.push(child)
  return child
}

/** Reads `count` events (or all, when omitted) from a response, then drops the connection. */
async function take(response: Response, abort: AbortController, count = Infinity) {
  const events: SseEvent[] = []
  try {
    for await (const event of readSse(response)) {
      events.push(event)
      if (events.length >= count) break
    }
  } finally {
    abort.abort()
  }
  return events
}

const tokens = (from: number, to: number) =>
  Array.from({ length: to - from }, (_, i) => `token ${from + i}`)

// Each test starts two tsx child processes: on a loaded 2-core box that alone took 10-20 s.
const SPAWNING = { timeout: 60_000 }

describe.skipIf(!redis)('two instances sharing one redis-server', () => {
  const pair = async (env: Record<string, string> = {}) => {
    const shared = { REDIS_URL: redis?.url ?? '', KEY_PREFIX: `multi:${randomUUID()}:`, ...env }
    return Promise.all([startInstance(shared), startInstance(shared)])
  }

  it(
    'resumes on B a stream that A keeps producing, with no gap and no duplicate',
    SPAWNING,
    async () => {
      const [a, b] = await pair({ TOKENS: '150', TOKEN_MS: '5' })
      const first = new AbortController()
      const posted = await fetch(`${a.origin}/streams`, { method: 'POST', signal: first.signal })
      const url = posted.headers.get('content-location')
      expect(posted.status).toBe(200)
      const before = await take(posted, first, 20)
      const lastId = before.at(-1)?.id ?? ''

      const second = new AbortController()
      const resumed = await fetch(`${b.origin}${url}`, {
        headers: { 'Last-Event-ID': lastId },
        signal: second.signal,
      })
      expect(resumed.status).toBe(200)
      const after = await take(resumed, second)

      const events = [...before, ...after]
      expect(events.at(-1)?.event).toBe('done')
      expect(events.filter((e) => e.event === 'delta').map((e) => e.data)).toEqual(tokens(0, 150))
      const ids = events.map((e) => e.id)
      expect(new Set(ids).size).toBe(ids.length)
    },
  )

  it(
    'ends the stream on B with producer-lost when A is SIGKILLed mid-stream',
    SPAWNING,
    async () => {
      const [a, b] = await pair({ TOKENS: '10000', TOKEN_MS: '5', LEASE_MS: '600' })
      const first = new AbortController()
      const posted = await fetch(`${a.origin}/streams`, { method: 'POST', signal: first.signal })
      const url = posted.headers.get('content-location')
      const before = await take(posted, first, 10)
      await a.kill()

      const second = new AbortController()
      const resumed = await fetch(`${b.origin}${url}`, {
        headers: { 'Last-Event-ID': before.at(-1)?.id ?? '' },
        signal: second.signal,
      })
      const after = await take(resumed, second)

      const last = after.at(-1)
      expect(last?.event).toBe('error')
      expect(JSON.parse(last?.data ?? '{}')).toMatchObject({
        code: 'producer-lost',
        retryable: false,
      })
      const deltas = [...before, ...after].filter((e) => e.event === 'delta').map((e) => e.data)
      expect(deltas).toEqual(tokens(0, deltas.length))
    },
  )
})
