import { afterEach, describe, expect, it, vi } from 'vitest'
import type { EventInput, EventLog, LoggedEvent } from '../log'

/** Limits a contract test asks its log for; a factory must honour each one it is given. */
export interface EventLogContractLimits {
  readonly maxEvents?: number | undefined
  readonly maxBytes?: number | undefined
  readonly ttlMs?: number | undefined
  readonly maxStreamAgeMs?: number | undefined
}

/** Tuning for a backend; the defaults suit the memory log. */
export interface EventLogContractOptions {
  /** Prefix of every stream id, so that runs sharing one backend never collide. */
  readonly streamPrefix?: string | undefined
  /** How long to poll for time-based effects (TTL, max age) before failing. */
  readonly expiryTimeoutMs?: number | undefined
  /** Seeds for the randomised concurrent hand-off test; a failure prints the seed to replay. */
  readonly seeds?: readonly number[] | undefined
}

type CreateLog = (limits: EventLogContractLimits) => Promise<EventLog> | EventLog

/** A `LoggedEvent` with `event` present only when set, so that implementations compare equal. */
const plain = (e: LoggedEvent) =>
  e.event === undefined ? { id: e.id, data: e.data } : { id: e.id, event: e.event, data: e.data }

async function collect(events: AsyncIterable<LoggedEvent>): Promise<LoggedEvent[]> {
  const out: LoggedEvent[] = []
  for await (const event of events) out.push(plain(event))
  return out
}

/** Lets timers and I/O run, so that a reader really reaches its live tail. */
const macrotask = () => new Promise<void>((resolve) => setTimeout(resolve, 0))

/** Small deterministic PRNG (mulberry32), so a failing interleaving can be replayed by seed. */
function random(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * Registers the shared `EventLog` contract as a vitest `describe` block. Every implementation
 * (memory, Redis, yours) runs these same tests; `createLog` is called once per test with the
 * limits that test needs, and the log is closed after the test.
 */
export function describeEventLogContract(
  name: string,
  createLog: CreateLog,
  options: EventLogContractOptions = {},
): void {
  const prefix = options.streamPrefix ?? 'contract:'
  const expiryTimeoutMs = options.expiryTimeoutMs ?? 5_000
  const seeds = options.seeds ?? [1, 2, 3]

  describe(`EventLog contract: ${name}`, () => {
    const opened: EventLog[] = []
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((log) => log.close()))
    })

    const logWith = async (limits: EventLogContractLimits = {}): Promise<EventLog> => {
      const log = await createLog(limits)
      opened.push(log)
      return log
    }
    const newId = () => `${prefix}${crypto.randomUUID()}`
    const stream = async (limits: EventLogContractLimits = {}) => {
      const log = await logWith(limits)
      const id = newId()
      await log.create(id)
      return { log, id }
    }
    const appendAll = async (log: EventLog, id: string, inputs: EventInput[]) => {
      const ids: string[] = []
      for (const input of inputs) ids.push(await log.append(id, input))
      return ids
    }
    const deltas = (n: number, from = 0): EventInput[] =>
      Array.from({ length: n }, (_, i) => ({ event: 'delta', data: `token ${from + i}` }))

    describe('create and info', () => {
      it('reports a new stream as live with its meta and no last id', async () => {
        const log = await logWith()
        const id = newId()
        await log.create(id, { principal: 'alice', model: 'm-1' })
        expect(await log.info(id)).toEqual({
          status: 'live',
          meta: { principal: 'alice', model: 'm-1' },
          lastId: undefined,
        })
      })

      it('reports the id of the last append as lastId', async () => {
        const { log, id } = await stream()
        const ids = await appendAll(log, id, deltas(3))
        expect((await log.info(id))?.lastId).toBe(ids[2])
      })

      it('reports a completed stream as complete', async () => {
        const { log, id } = await stream()
        await log.complete(id)
        expect((await log.info(id))?.status).toBe('complete')
      })

      it('answers undefined for an unknown stream', async () => {
        const log = await logWith()
        expect(await log.info(newId())).toBeUndefined()
      })

      it('rejects a second create of the same id with stream-exists', async () => {
        const { log, id } = await stream()
        await expect(log.create(id)).rejects.toMatchObject({ code: 'stream-exists' })
      })
    })

    describe('append', () => {
      it('returns a distinct id for every event', async () => {
        const { log, id } = await stream()
        const ids = await appendAll(log, id, deltas(20))
        expect(new Set(ids).size).toBe(20)
      })

      it('gives distinct ids to appends made concurrently', async () => {
        const { log, id } = await stream()
        const ids = await Promise.all(deltas(50).map((input) => log.append(id, input)))
        expect(new Set(ids).size).toBe(50)
      })

      it('rejects an append after complete with stream-complete', async () => {
        const { log, id } = await stream()
        await log.complete(id)
        await expect(log.append(id, { data: 'late' })).rejects.toMatchObject({
          code: 'stream-complete',
        })
      })

      it('rejects an append to an unknown stream with unknown-stream', async () => {
        const log = await logWith()
        await expect(log.append(newId(), { data: 'x' })).rejects.toMatchObject({
          code: 'unknown-stream',
        })
      })

      it('rejects completing an unknown stream with unknown-stream', async () => {
        const log = await logWith()
        await expect(log.complete(newId())).rejects.toMatchObject({ code: 'unknown-stream' })
      })
    })

    describe('replay', () => {
      it('replays every event in append order with its id, type and data', async () => {
        const { log, id } = await stream()
        const inputs = [{ data: 'plain' }, { event: 'delta', data: 'a\nb' }, { data: '' }]
        const ids = await appendAll(log, id, inputs)
        await log.complete(id)
        expect(await collect(log.read(id))).toEqual([
          { id: ids[0], data: 'plain' },
          { id: ids[1], event: 'delta', data: 'a\nb' },
          { id: ids[2], data: '' },
        ])
      })

      it('replays strictly after the given id', async () => {
        const { log, id } = await stream()
        const ids = await appendAll(log, id, deltas(5))
        await log.complete(id)
        const events = await collect(log.read(id, { after: ids[1] }))
        expect(events.map((e) => e.id)).toEqual(ids.slice(2))
      })

      it('ends at once when resumed after the last event of a completed stream', async () => {
        const { log, id } = await stream()
        const ids = await appendAll(log, id, deltas(3))
        await log.complete(id)
        expect(await collect(log.read(id, { after: ids[2] }))).toEqual([])
      })

      it('ends at once when reading a completed empty stream', async () => {
        const { log, id } = await stream()
        await log.complete(id)
        expect(await collect(log.read(id))).toEqual([])
      })

      it('rejects reading an unknown stream with unknown-stream', async () => {
        const log = await logWith()
        await expect(collect(log.read(newId()))).rejects.toMatchObject({ code: 'unknown-stream' })
      })

      it('rejects a cursor the stream never issued with cursor-expired', async () => {
        const { log, id } = await stream()
        await appendAll(log, id, deltas(2))
        await expect(collect(log.read(id, { after: 'not-an-id' }))).rejects.toMatchObject({
          code: 'cursor-expired',
        })
      })

      it('rejects a cursor beyond the last event (from a later stream) with cursor-expired', async () => {
        const { log, id } = await stream()
        await appendAll(log, id, deltas(2))
        const other = newId()
        await log.create(other)
        const otherIds = await appendAll(log, other, deltas(5))
        await expect(collect(log.read(id, { after: otherIds[4] }))).rejects.toMatchObject({
          code: 'cursor-expired',
        })
      })
    })

    describe('live tail', () => {
      it('delivers an append made after the reader subscribed', async () => {
        const { log, id } = await stream()
        const reader = log.read(id)[Symbol.asyncIterator]()
        const next = reader.next()
        await macrotask()
        const appended = await log.append(id, { event: 'delta', data: 'live' })
        expect(await next).toEqual({
          done: false,
          value: expect.objectContaining({ id: appended, data: 'live' }),
        })
        await reader.return?.()
      })

      it('replays and then continues live without a gap', async () => {
        const { log, id } = await stream()
        const before = await appendAll(log, id, deltas(3))
        const reading = collect(log.read(id, { after: before[0] }))
        await macrotask()
        const after = await appendAll(log, id, deltas(3, 3))
        await log.complete(id)
        expect((await reading).map((e) => e.id)).toEqual([...before.slice(1), ...after])
      })

      it('delivers everything appended before complete, then ends the reader', async () => {
        const { log, id } = await stream()
        const reading = collect(log.read(id))
        await macrotask()
        const ids = await appendAll(log, id, deltas(4))
        await log.complete(id)
        expect((await reading).map((e) => e.id)).toEqual(ids)
      })

      it('ends the tail without throwing when the signal aborts', async () => {
        const { log, id } = await stream()
        const ids = await appendAll(log, id, deltas(2))
        const controller = new AbortController()
        const seen: string[] = []
        const reading = (async () => {
          for await (const event of log.read(id, { signal: controller.signal })) {
            seen.push(event.id)
          }
        })()
        await vi.waitFor(() => expect(seen).toEqual(ids), { timeout: expiryTimeoutMs })
        controller.abort()
        await expect(reading).resolves.toBeUndefined()
        expect((await log.info(id))?.status).toBe('live')
      })

      it('yields nothing for a signal that is already aborted', async () => {
        const { log, id } = await stream()
        await appendAll(log, id, deltas(2))
        expect(await collect(log.read(id, { signal: AbortSignal.abort() }))).toEqual([])
      })

      it('ends a tailing reader when the log closes', async () => {
        const { log, id } = await stream()
        const reading = collect(log.read(id)).then(
          () => 'returned',
          () => 'threw',
        )
        await macrotask()
        await log.close()
        expect(['returned', 'threw']).toContain(await reading)
      })
    })

    describe('concurrent hand-off', () => {
      it('gives every reader exactly the suffix after its cursor while producers append', async () => {
        for (const seed of seeds) {
          const next = random(seed)
          const { log, id } = await stream()
          const pause = async () => {
            const r = next()
            if (r < 0.4) return
            if (r < 0.8) await Promise.resolve()
            else await macrotask()
          }
          const appended: string[] = []
          const producer = async (p: number) => {
            for (let i = 0; i < 40; i += 1) {
              await pause()
              appended.push(await log.append(id, { event: `p${p}`, data: `${p}:${i}` }))
            }
          }
          const readers: Promise<{ after: string | undefined; events: LoggedEvent[] }>[] = []
          const spawner = async () => {
            for (let i = 0; i < 30; i += 1) {
              await pause()
              const pick = Math.floor(next() * (appended.length + 1))
              const after = pick === appended.length ? undefined : appended[pick]
              readers.push(collect(log.read(id, { after })).then((events) => ({ after, events })))
            }
          }
          await Promise.all([producer(0), producer(1), producer(2), spawner()])
          await log.complete(id)
          const reference = await collect(log.read(id))
          expect(reference.map((e) => e.id).sort(), `seed ${seed}`).toEqual([...appended].sort())
          for (const { after, events } of await Promise.all(readers)) {
            const start = after === undefined ? 0 : reference.findIndex((e) => e.id === after) + 1
            expect(events, `seed ${seed}, after ${after}`).toEqual(reference.slice(start))
          }
        }
      })

      it('keeps concurrent streams isolated from each other', async () => {
        const log = await logWith()
        const ids = Array.from({ length: 10 }, () => newId())
        await Promise.all(ids.map((id) => log.create(id)))
        const readings = ids.map((id) => collect(log.read(id)))
        for (let round = 0; round < 5; round += 1) {
          await Promise.all(ids.map((id) => log.append(id, { data: `${id}#${round}` })))
        }
        await Promise.all(ids.map((id) => log.complete(id)))
        const results = await Promise.all(readings)
        results.forEach((events, i) => {
          expect(events.map((e) => e.data)).toEqual([0, 1, 2, 3, 4].map((r) => `${ids[i]}#${r}`))
        })
      })
    })

    describe('limits', () => {
      it('keeps only the newest maxEvents events', async () => {
        const { log, id } = await stream({ maxEvents: 3 })
        const ids = await appendAll(log, id, deltas(10))
        await log.complete(id)
        expect((await collect(log.read(id))).map((e) => e.id)).toEqual(ids.slice(7))
      })

      it('rejects a cursor trimmed by maxEvents with cursor-expired', async () => {
        const { log, id } = await stream({ maxEvents: 3 })
        const ids = await appendAll(log, id, deltas(10))
        await expect(collect(log.read(id, { after: ids[2] }))).rejects.toMatchObject({
          code: 'cursor-expired',
        })
      })

      it('still resumes from the event just before the oldest kept one', async () => {
        const { log, id } = await stream({ maxEvents: 3 })
        const ids = await appendAll(log, id, deltas(10))
        await log.complete(id)
        const events = await collect(log.read(id, { after: ids[6] }))
        expect(events.map((e) => e.id)).toEqual(ids.slice(7))
      })

      it('trims the oldest events beyond maxBytes', async () => {
        const { log, id } = await stream({ maxBytes: 100 })
        // Each event is 'delta' (5 bytes) + 'token N' (7 bytes) = 12 bytes.
        const ids = await appendAll(log, id, deltas(10))
        await log.complete(id)
        const kept = await collect(log.read(id))
        const bytes = kept.reduce((n, e) => n + (e.event?.length ?? 0) + e.data.length, 0)
        expect(bytes).toBeLessThanOrEqual(100)
        expect(kept.length).toBeGreaterThan(0)
        expect(kept.map((e) => e.id)).toEqual(ids.slice(ids.length - kept.length))
      })

      it('rejects a cursor trimmed by maxBytes with cursor-expired', async () => {
        const { log, id } = await stream({ maxBytes: 30 })
        const ids = await appendAll(log, id, deltas(10))
        await expect(collect(log.read(id, { after: ids[0] }))).rejects.toMatchObject({
          code: 'cursor-expired',
        })
      })

      it('rejects a single event larger than maxBytes with stream-too-large', async () => {
        const { log, id } = await stream({ maxBytes: 16 })
        await expect(log.append(id, { data: 'x'.repeat(17) })).rejects.toMatchObject({
          code: 'stream-too-large',
        })
      })

      it('throws cursor-expired to a reader that falls behind trimming mid-tail', async () => {
        const { log, id } = await stream({ maxEvents: 2 })
        await appendAll(log, id, deltas(2))
        const reader = log.read(id)[Symbol.asyncIterator]()
        await reader.next()
        // The reader holds its place after the first event while five more push it off the log.
        await appendAll(log, id, deltas(5, 2))
        await expect(
          (async () => {
            while (!(await reader.next()).done) {}
          })(),
        ).rejects.toMatchObject({ code: 'cursor-expired' })
      })
    })

    describe('expiry', () => {
      it('forgets a completed stream after ttlMs', async () => {
        const { log, id } = await stream({ ttlMs: 50 })
        await log.complete(id)
        await vi.waitFor(async () => expect(await log.info(id)).toBeUndefined(), {
          timeout: expiryTimeoutMs,
          interval: 20,
        })
        await expect(collect(log.read(id))).rejects.toMatchObject({ code: 'unknown-stream' })
      })

      it('keeps live streams while completed ones expire', async () => {
        const log = await logWith({ ttlMs: 50 })
        const done = newId()
        const live = newId()
        await log.create(done)
        await log.create(live)
        await log.complete(done)
        await vi.waitFor(async () => expect(await log.info(done)).toBeUndefined(), {
          timeout: expiryTimeoutMs,
          interval: 20,
        })
        expect((await log.info(live))?.status).toBe('live')
      })

      it('cancels and ends a live stream older than maxStreamAgeMs', async () => {
        const { log, id } = await stream({ maxStreamAgeMs: 100 })
        const cancelled = vi.fn()
        log.onCancel(id, cancelled)
        const reading = collect(log.read(id)).then(
          () => 'ended',
          (error: { code?: unknown }) => error.code,
        )
        await vi.waitFor(() => expect(cancelled).toHaveBeenCalledOnce(), {
          timeout: expiryTimeoutMs,
          interval: 20,
        })
        expect(['ended', 'unknown-stream']).toContain(await reading)
      })
    })

    describe('cancel', () => {
      it('calls each cancel listener once', async () => {
        const { log, id } = await stream()
        const first = vi.fn()
        const second = vi.fn()
        log.onCancel(id, first)
        log.onCancel(id, second)
        await log.cancel(id)
        await log.cancel(id)
        await vi.waitFor(() => {
          expect(first).toHaveBeenCalledOnce()
          expect(second).toHaveBeenCalledOnce()
        })
      })

      it('does not call a listener that unsubscribed', async () => {
        const { log, id } = await stream()
        const kept = vi.fn()
        const dropped = vi.fn()
        log.onCancel(id, kept)
        log.onCancel(id, dropped)()
        await log.cancel(id)
        await vi.waitFor(() => expect(kept).toHaveBeenCalledOnce())
        expect(dropped).not.toHaveBeenCalled()
      })

      it('does not notify listeners of another stream', async () => {
        const log = await logWith()
        const a = newId()
        const b = newId()
        await log.create(a)
        await log.create(b)
        const onA = vi.fn()
        const onB = vi.fn()
        log.onCancel(a, onA)
        log.onCancel(b, onB)
        await log.cancel(a)
        await vi.waitFor(() => expect(onA).toHaveBeenCalledOnce())
        expect(onB).not.toHaveBeenCalled()
      })

      it('leaves the stream readable and appendable after cancel', async () => {
        const { log, id } = await stream()
        await log.cancel(id)
        const last = await log.append(id, { event: 'done', data: '{"reason":"cancelled"}' })
        await log.complete(id)
        expect((await collect(log.read(id))).map((e) => e.id)).toEqual([last])
      })
    })
  })
}
