import { randomUUID } from 'node:crypto'
import { type EventLog, type LoggedEvent, UnbrokenServerError } from '@unbroken/server'
import { startRedisServer } from '@unbroken/test-kit'
import { createClient } from 'redis'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { CLIENT_NAMES } from './connection'
import { createRedisEventLog, type RedisEventLogOptions } from './log'

const redis = await startRedisServer()
afterAll(() => redis?.stop())

async function collect(events: AsyncIterable<LoggedEvent>): Promise<LoggedEvent[]> {
  const out: LoggedEvent[] = []
  for await (const event of events) out.push(event)
  return out
}

describe.skipIf(!redis)('createRedisEventLog on a real redis-server', () => {
  const url = redis?.url ?? ''
  const admin = createClient({ url })
  const opened: EventLog[] = []
  let keyPrefix = ''

  beforeAll(async () => {
    admin.on('error', () => {})
    await admin.connect()
  })
  afterAll(() => admin.close())
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((log) => log.close()))
  })

  /** Logs of one test share a prefix, like two server instances sharing one Redis. */
  const instance = (options: Partial<RedisEventLogOptions> = {}) => {
    const log = createRedisEventLog({ url, keyPrefix, ...options })
    opened.push(log)
    return log
  }
  const fresh = () => {
    keyPrefix = `log-test:${randomUUID()}:`
    return randomUUID()
  }

  /** Drops every connection of one kind (e.g. all blocking tails) as a network cut would. */
  const kill = async (name: string) => {
    const list = String(await admin.sendCommand(['CLIENT', 'LIST']))
    const ids = [...list.matchAll(/id=(\d+) .*?name=(\S*)/g)]
      .filter((match) => match[2] === name)
      .map((match) => match[1] ?? '')
    for (const id of ids) await admin.sendCommand(['CLIENT', 'KILL', 'ID', id])
    return ids.length
  }

  /** CLIENT SETNAME of every connection open on this file's redis-server, sorted. */
  const connectionNames = async () => {
    const list = String(await admin.sendCommand(['CLIENT', 'LIST']))
    return [...list.matchAll(/ name=(\S+)/g)].map((match) => match[1] ?? '').sort()
  }

  it('gives every key a TTL: lease + ttl while live, ttl once complete', async () => {
    const id = fresh()
    const log = instance({ leaseMs: 5_000, ttlMs: 60_000 })
    await log.create(id)
    await log.append(id, { data: 'x' })
    await log.cancel(id)
    const keys = ['', ':meta', ':cancel'].map((suffix) => `${keyPrefix}${id}${suffix}`)
    for (const key of keys) expect(await admin.pTTL(key)).toBeGreaterThan(60_000)
    await log.complete(id)
    for (const key of keys) {
      const ttl = await admin.pTTL(key)
      expect(ttl).toBeGreaterThan(0)
      expect(ttl).toBeLessThanOrEqual(60_000)
    }
    expect(await admin.exists(`${keyPrefix}${id}:lease`)).toBe(0)
  })

  it('serves every tailing reader from one blocking connection per instance', async () => {
    const log = instance()
    const streams = [fresh(), randomUUID(), randomUUID()]
    for (const id of streams) await log.create(id)
    const readers = streams.flatMap((id) => [1, 2, 3, 4].map(() => collect(log.read(id))))
    const sent = await Promise.all(streams.map((id) => log.append(id, { data: 'x' })))
    await Promise.all(streams.map((id) => log.complete(id)))
    expect((await Promise.all(readers)).map((events) => events.map((e) => e.id))).toEqual(
      sent.flatMap((id) => [[id], [id], [id], [id]]),
    )
    // Twelve readers, yet one command and one blocking connection; `admin` has no name.
    expect(await connectionNames()).toEqual([CLIENT_NAMES.command, CLIENT_NAMES.tail])
  })

  it('issues consecutive Redis stream ids, starting after the open marker', async () => {
    const id = fresh()
    const log = instance()
    await log.create(id)
    const ids = [await log.append(id, { data: 'a' }), await log.append(id, { data: 'b' })]
    expect(ids).toEqual(['0-2', '0-3'])
    expect(await admin.xLen(`${keyPrefix}${id}`)).toBe(3)
  })

  it('resumes on another instance a stream the first one produces', async () => {
    const id = fresh()
    const a = instance()
    const b = instance()
    await a.create(id)
    const first = await a.append(id, { data: 'before' })
    const reading = collect(b.read(id, { after: first }))
    const later = await a.append(id, { event: 'delta', data: 'after' })
    await a.complete(id)
    expect(await reading).toEqual([{ id: later, event: 'delta', data: 'after' }])
  })

  it('delivers a cancel made on another instance to the producer', async () => {
    const id = fresh()
    const a = instance()
    const b = instance()
    await a.create(id)
    const cancelled = vi.fn()
    a.onCancel(id, cancelled)
    await b.cancel(id)
    await vi.waitFor(() => expect(cancelled).toHaveBeenCalledOnce())
  })

  it('ends readers with producer-lost once the producer stops heartbeating', async () => {
    const id = fresh()
    const a = instance({ leaseMs: 300 })
    const b = instance({ leaseMs: 300 })
    await a.create(id)
    const sent = await a.append(id, { data: 'last words' })
    // Closing without complete is what a killed process looks like: the lease just expires.
    await a.close()
    const seen: string[] = []
    const reading = (async () => {
      for await (const event of b.read(id)) seen.push(event.id)
    })()
    await expect(reading).rejects.toMatchObject({ code: 'producer-lost', retryable: false })
    expect(seen).toEqual([sent])
  })

  it('rejects an append with log-unavailable when the connection drops', async () => {
    const id = fresh()
    const log = instance()
    await log.create(id)
    await log.append(id, { data: 'kept' })
    expect(await kill(CLIENT_NAMES.command)).toBeGreaterThan(0)
    await expect(log.append(id, { data: 'lost' })).rejects.toMatchObject({
      code: 'log-unavailable',
      retryable: true,
    })
  })

  it('refuses later appends once one failed, so the log never holds a hole', async () => {
    const id = fresh()
    const log = instance()
    await log.create(id)
    await kill(CLIENT_NAMES.command)
    await expect(log.append(id, { data: 'lost' })).rejects.toMatchObject({
      code: 'log-unavailable',
    })
    await vi.waitFor(async () => expect(await log.info(id)).toBeDefined())
    await expect(log.append(id, { data: 'after the hole' })).rejects.toMatchObject({
      code: 'log-unavailable',
    })
  })

  it('ends readers with a final log-unavailable after a failed append (a resume would replay it)', async () => {
    const id = fresh()
    const producer = instance({ leaseMs: 300 })
    const reader = instance({ leaseMs: 300 })
    await producer.create(id)
    const kept = await producer.append(id, { data: 'kept' })
    await kill(CLIENT_NAMES.command)
    await expect(producer.append(id, { data: 'lost' })).rejects.toThrow()
    const seen: string[] = []
    const reading = (async () => {
      for await (const event of reader.read(id)) seen.push(event.id)
    })()
    await expect(reading).rejects.toMatchObject({ code: 'log-unavailable', retryable: false })
    expect(seen).toEqual([kept])
  })

  it('keeps tailing across a dropped blocking connection', async () => {
    const id = fresh()
    const a = instance()
    const b = instance()
    await a.create(id)
    const reader = b.read(id)[Symbol.asyncIterator]()
    const first = reader.next()
    const sent = [await a.append(id, { data: '1' })]
    expect((await first).value).toMatchObject({ id: sent[0] })
    expect(await kill(CLIENT_NAMES.tail)).toBeGreaterThan(0)
    sent.push(await a.append(id, { data: '2' }), await a.append(id, { data: '3' }))
    await a.complete(id)
    const rest: string[] = []
    for (let r = await reader.next(); !r.done; r = await reader.next()) rest.push(r.value.id)
    expect(rest).toEqual(sent.slice(1))
  })

  it('pages a reader too slow for the tail buffer from Redis instead, missing nothing', async () => {
    const id = fresh()
    const log = instance()
    await log.create(id)
    const reader = log.read(id)[Symbol.asyncIterator]()
    const first = reader.next()
    const sent = [await log.append(id, { data: 'first' })]
    await first
    // More than the tail buffers for one reader (5000) arrive while this one does not read.
    const burst = await Promise.all(
      Array.from({ length: 6_000 }, (_, i) => log.append(id, { data: String(i) })),
    )
    sent.push(...burst)
    await log.complete(id)
    const rest: string[] = []
    for (let r = await reader.next(); !r.done; r = await reader.next()) rest.push(r.value.id)
    expect(rest).toEqual(sent.slice(1))
  })

  /** The seqs physically present in a stream, oldest first. */
  const present = async (id: string) =>
    (await admin.xRange(`${keyPrefix}${id}`, '-', '+')).map((entry) => Number(entry.id.slice(2)))

  it('trims physically by approximate MAXLEN but never replays an entry trimmed logically', async () => {
    const id = fresh()
    const log = instance({ maxEvents: 10 })
    await log.create(id)
    const sent = await Promise.all(
      Array.from({ length: 1_000 }, (_, i) => log.append(id, { data: String(i) })),
    )
    const seqs = await present(id)
    // Redis drops whole macro-nodes (100 entries): more than maxEvents stay, but boundedly many.
    expect(seqs.length).toBeGreaterThan(11)
    expect(seqs.length).toBeLessThanOrEqual(11 + 100)
    const kept = sent.slice(-10)
    const start = Number(kept[0]?.slice(2))
    expect(seqs[0]).toBeLessThan(start - 1) // present, yet logically trimmed
    await log.complete(id)
    expect((await collect(log.read(id, { after: `0-${start - 1}` }))).map((e) => e.id)).toEqual(
      kept,
    )
    // The cursor just behind the logical start is expired, though its successor is still present.
    await expect(collect(log.read(id, { after: `0-${start - 2}` }))).rejects.toMatchObject({
      code: 'cursor-expired',
    })
  })

  it('keeps maxBytes exact over entries a MINID ~ trim leaves in place', async () => {
    const id = fresh()
    const log = instance({ maxEvents: 100_000, maxBytes: 100 })
    await log.create(id)
    const sent = await Promise.all(
      Array.from({ length: 500 }, (_, i) => log.append(id, { data: `event ${1_000 + i}` })),
    )
    const seqs = await present(id)
    expect(seqs.length).toBeGreaterThan(10)
    expect(seqs.length).toBeLessThanOrEqual(10 + 100)
    const kept = sent.slice(-10) // ten bytes each
    const start = Number(kept[0]?.slice(2))
    expect(seqs[0]).toBeLessThan(start - 1)
    await log.complete(id)
    expect((await collect(log.read(id, { after: `0-${start - 1}` }))).map((e) => e.id)).toEqual(
      kept,
    )
    await expect(collect(log.read(id, { after: `0-${start - 2}` }))).rejects.toMatchObject({
      code: 'cursor-expired',
    })
  })

  it('expires a tailing reader overtaken logically while the entries are still present', async () => {
    const id = fresh()
    const a = instance({ maxEvents: 10 })
    const b = instance({ maxEvents: 10 })
    await a.create(id)
    const reader = b.read(id)[Symbol.asyncIterator]()
    const first = reader.next()
    const sent = [await a.append(id, { data: 'first' })]
    expect((await first).value).toMatchObject({ id: sent[0] })
    // While B's tail reconnects, 50 events land: its next XREAD returns all of them at once.
    expect(await kill(CLIENT_NAMES.tail)).toBeGreaterThan(0)
    sent.push(
      ...(await Promise.all(Array.from({ length: 50 }, (_, i) => a.append(id, { data: `${i}` })))),
    )
    expect(await present(id)).toContain(Number(sent[1]?.slice(2)))
    await expect(reader.next()).rejects.toMatchObject({ code: 'cursor-expired' })
  })

  it('copies the settings of a given node-redis client without using it', async () => {
    const id = fresh()
    const client = createClient({ url })
    const log = instance({ client, url: undefined })
    await log.create(id)
    expect(await log.append(id, { data: 'x' })).toBe('0-2')
    expect(client.isOpen).toBe(false)
  })

  it('rejects with log-unavailable when Redis cannot be reached', async () => {
    const log = instance({ url: 'redis://127.0.0.1:1', connectTimeoutMs: 200 })
    await expect(log.create(fresh())).rejects.toMatchObject({ code: 'log-unavailable' })
  })

  it('refuses a Redis older than 7.0 with a non-retryable log-unavailable naming the version', async () => {
    const olderServer = {
      duplicate(overrides: object) {
        const connection = createClient({ url, ...overrides })
        // The real server (7.x) answers everything else; only its version is made old.
        Object.assign(connection, { info: async () => '# Server\r\nredis_version:6.2.14\r\n' })
        return connection
      },
    }
    const log = instance({ client: olderServer, url: undefined })
    await expect(log.create(fresh())).rejects.toMatchObject({
      code: 'log-unavailable',
      retryable: false,
      message: expect.stringContaining('cannot run on Redis 6.2.14'),
    })
  })

  it('throws the server error class, invalid-argument, at creation without a client or url', () => {
    let thrown: unknown
    try {
      createRedisEventLog({})
    } catch (error) {
      thrown = error
    }
    expect(UnbrokenServerError.isInstance(thrown)).toBe(true)
    expect(thrown).toMatchObject({ code: 'invalid-argument' })
  })
})
