/**
 * Issue 5, point 3 with a real redis-server that really stops: appends fail loudly to the
 * producer, readers end with a retryable error instead of waiting for ever, and tails reconnect.
 * Each server here is this file's own, because these tests kill it.
 */
import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { createResumableStreams, type EventLog } from '@unbroken/server'
import {
  listen,
  type RedisServer,
  readSse,
  type SseEvent,
  startRedisServer,
} from '@unbroken/test-kit'
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest'
import { createRedisEventLog, type RedisEventLogOptions } from '../src/index'

const volatile = await startRedisServer()
const durable = await startRedisServer({ persistent: true })
afterAll(() => Promise.all([volatile?.stop(), durable?.stop()]))

const opened: EventLog[] = []
afterEach(async () => {
  await Promise.all(opened.splice(0).map((log) => log.close()))
})

/** Two log instances sharing a key prefix, like two server instances sharing one Redis. */
function instances(
  redis: RedisServer,
  options: Partial<RedisEventLogOptions> = {},
): [EventLog, EventLog] {
  const keyPrefix = `restart:${randomUUID()}:`
  const instance = () => {
    const log = createRedisEventLog({ url: redis.url, keyPrefix, leaseMs: 300, ...options })
    opened.push(log)
    return log
  }
  return [instance(), instance()]
}

/**
 * Starts a reader and waits until it has read the stream's first event, so that it is past the
 * replay; `ended` resolves to every id read and how the read ended.
 */
async function reader(log: EventLog, streamId: string) {
  const events = log.read(streamId)[Symbol.asyncIterator]()
  const first = await events.next()
  const ids = first.done ? [] : [first.value.id]
  const ended = (async () => {
    try {
      for (let next = await events.next(); !next.done; next = await events.next()) {
        ids.push(next.value.id)
      }
      return { ids, error: undefined }
    } catch (error) {
      return { ids, error }
    }
  })()
  return { ended }
}

/** Resolves once the log reaches Redis again (its command connection reconnected). */
const reachable = (log: EventLog) => vi.waitFor(() => log.info('any'), { timeout: 10_000 })

describe.skipIf(!volatile || !durable)('a Redis restart during a live stream', () => {
  const server = volatile as RedisServer
  const persistentServer = durable as RedisServer

  it('rejects the next append with a retryable log-unavailable', async () => {
    const [log] = instances(server)
    const id = randomUUID()
    await log.create(id)
    await log.append(id, { data: 'kept' })
    await server.restart()
    await expect(log.append(id, { data: 'lost' })).rejects.toMatchObject({
      code: 'log-unavailable',
      retryable: true,
    })
  })

  it('tells the producer its stream vanished when Redis came back without it', async () => {
    const [log] = instances(server)
    const id = randomUUID()
    await log.create(id)
    await server.restart()
    await reachable(log)
    await expect(log.append(id, { data: 'after' })).rejects.toMatchObject({
      code: 'log-unavailable',
      retryable: true,
      message: expect.stringContaining('lost track of this stream'),
    })
  })

  it('ends a reader that starts tailing only after its stream was found vanished', async () => {
    const [log] = instances(server)
    const id = randomUUID()
    await log.create(id)
    await log.append(id, { data: 'one' })
    await log.append(id, { data: 'two' })
    // Paused between two events of its replay (a relay waiting for a slow client): not tailing.
    const events = log.read(id)[Symbol.asyncIterator]()
    await events.next()
    await server.restart()
    await reachable(log)
    await expect(log.append(id, { data: 'after' })).rejects.toMatchObject({
      message: expect.stringContaining('lost track of this stream'),
    })
    await events.next()
    // Its tail would block on keys that no longer exist; it must hear why instead, so that its
    // client resumes and is told the stream is gone (404), not left streaming.
    await expect(events.next()).rejects.toMatchObject({
      code: 'log-unavailable',
      retryable: true,
      message: expect.stringContaining('lost track of this stream'),
    })
  })

  it('gives a stream created again after Redis lost it its own age limit, not the old one', async () => {
    // A keyed POST repeated on the same instance creates the same id again once Redis lost it.
    const [log] = instances(server, { maxStreamAgeMs: 1_500 })
    const id = randomUUID()
    await log.create(id)
    await server.restart()
    await reachable(log)
    const cancelled: string[] = []
    const cancel = (streamId: string, name: string) =>
      new Promise<void>((resolve) => {
        log.onCancel(streamId, () => {
          cancelled.push(name)
          resolve()
        })
      })
    // Created between the two creates of `id`, so its age limit falls between their two deadlines
    // (equal limits fire in creation order): the order of the cancels, not a clock, tells them apart.
    const between = randomUUID()
    await log.create(between)
    const betweenCancelled = cancel(between, 'created between')
    await log.create(id)
    await Promise.all([betweenCancelled, cancel(id, 'created again')])
    expect(cancelled).toEqual(['created between', 'created again'])
  })

  it('ends tailing readers on every instance with a retryable log-unavailable', async () => {
    const [owner, other] = instances(server)
    const id = randomUUID()
    await owner.create(id)
    const sent = await owner.append(id, { data: 'before' })
    const readers = await Promise.all([reader(owner, id), reader(other, id)])
    await server.restart()
    for (const { ids, error } of await Promise.all(readers.map((r) => r.ended))) {
      expect(ids).toEqual([sent])
      expect(error).toMatchObject({ code: 'log-unavailable', retryable: true })
    }
  })

  it('ends tailing readers with a retryable log-unavailable while Redis stays down', async () => {
    const [owner, other] = instances(server)
    const id = randomUUID()
    await owner.create(id)
    await owner.append(id, { data: 'before' })
    const readers = await Promise.all([reader(owner, id), reader(other, id)])
    await server.stop()
    try {
      for (const { error } of await Promise.all(readers.map((r) => r.ended))) {
        expect(error).toMatchObject({
          code: 'log-unavailable',
          message: expect.stringContaining('stopped answering'),
        })
      }
    } finally {
      await server.restart()
    }
  })

  it('keeps a reader tailing across a restart that keeps the data', async () => {
    const [producer, consumer] = instances(persistentServer, { leaseMs: 5_000 })
    const id = randomUUID()
    await producer.create(id)
    const sent = [await producer.append(id, { data: '1' })]
    const reading = await reader(consumer, id)
    await persistentServer.restart()
    // An append made before the producer reconnects would fail (and end the stream) by design.
    await reachable(producer)
    sent.push(await producer.append(id, { data: '2' }))
    await producer.complete(id)
    expect(await reading.ended).toEqual({ ids: sent, error: undefined })
  })

  it('ends the SSE stream of the registry with a retryable error event, and its resume with 404', async () => {
    const [log] = instances(server)
    const streams = createResumableStreams({ log })
    const served = await listen((req, res) => {
      void streams.handle(req, res, async (stream) => {
        for (let i = 0; !stream.signal.aborted; i += 1) {
          await stream.send({ event: 'delta', data: `token ${i}` })
          // Paces the producer like a model would; the restart lands between two tokens.
          await sleep(10)
        }
      })
    })
    try {
      const response = await fetch(`${served.origin}/streams`, { method: 'POST' })
      const events: SseEvent[] = []
      for await (const event of readSse(response)) {
        events.push(event)
        if (events.length === 3) await server.restart()
      }
      const last = events.at(-1)
      expect(last?.event).toBe('error')
      expect(JSON.parse(last?.data ?? '{}')).toMatchObject({
        code: 'log-unavailable',
        retryable: true,
      })
      // The restart kept nothing: once Redis answers again (until then a resume gets a retryable
      // 503), the client's resume is told the stream is gone, not left waiting.
      await reachable(log)
      const resumed = await fetch(`${served.origin}${response.headers.get('content-location')}`, {
        headers: { 'Last-Event-ID': events.findLast((event) => event.id)?.id ?? '' },
      })
      expect(resumed.status).toBe(404)
      expect(await resumed.json()).toMatchObject({ code: 'unknown-stream', retryable: false })
    } finally {
      await served.close()
      await streams.close()
    }
  })
})
