import { describe, expect, it } from 'vitest'
import { UnbrokenServerError } from '../errors'
import { type ContractKit, collect, plain } from './contract-kit'

/** Stream lifecycle, appends and replay from a cursor. */
export function describeStreamContract(kit: ContractKit): void {
  const { logWith, newId, stream, appendAll, deltas } = kit
  describe('create and info', () => {
    it('reports a new stream as live with its meta and no last event', async () => {
      const log = await logWith()
      const id = newId()
      await log.create(id, { principal: 'alice', model: 'm-1' })
      const info = await log.info(id)
      expect(info).toMatchObject({ status: 'live', meta: { principal: 'alice', model: 'm-1' } })
      expect(info?.lastEvent).toBeUndefined()
    })

    it('reports the last append as lastEvent, with its id, type and data', async () => {
      const { log, id } = await stream()
      const ids = await appendAll(log, id, deltas(3))
      const last = (await log.info(id))?.lastEvent
      expect(last && plain(last)).toEqual({ id: ids[2], event: 'delta', data: 'token 2' })
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

    it.each([
      ['a number as data', { data: 42 }],
      ['an object as data', { data: { text: 'hi' } }],
      ['no data', {}],
      ['a number as event', { event: 7, data: 'x' }],
      ['LF in event', { event: 'a\ndata: forged', data: 'x' }],
      ['CR in event', { event: 'a\rb', data: 'x' }],
      ['NUL in event', { event: 'a\0', data: 'x' }],
    ])('refuses %s with invalid-argument and stores nothing', async (_, input) => {
      const { log, id } = await stream()
      // What a producer written in plain JavaScript (or with a cast) can hand over at run time.
      const append = log.append as (streamId: string, input: unknown) => Promise<string>
      await expect(append(id, input)).rejects.toMatchObject({ code: 'invalid-argument' })
      expect((await log.info(id))?.lastEvent).toBeUndefined()
    })

    it('keeps NUL, CR and LF in data, which formatting splits into lines safely', async () => {
      const { log, id } = await stream()
      const sent = await log.append(id, { data: 'a\0b\r\nc' })
      await log.complete(id)
      expect(await collect(log.read(id))).toEqual([{ id: sent, data: 'a\0b\r\nc' }])
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

    it("rejects with the server's error class (isInstance), whose code the registry answers with", async () => {
      const { log, id } = await stream()
      const append = log.append as (streamId: string, input: unknown) => Promise<string>
      const failures = await Promise.all(
        [
          log.create(id),
          append(id, { data: 42 }),
          log.append(newId(), { data: 'x' }),
          collect(log.read(id, { after: 'not-an-id' })),
        ].map((attempt) =>
          attempt.then(
            () => undefined,
            (error: unknown) => error,
          ),
        ),
      )
      expect(failures.map((error) => UnbrokenServerError.isInstance(error))).toEqual([
        true,
        true,
        true,
        true,
      ])
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

    it('reads from the first event without a cursor, and after startId alike', async () => {
      const { log, id } = await stream()
      const ids = await appendAll(log, id, deltas(3))
      await log.complete(id)
      expect((await collect(log.read(id))).map((e) => e.id)).toEqual(ids)
      expect((await collect(log.read(id, { after: log.startId }))).map((e) => e.id)).toEqual(ids)
    })

    it('names a startId that no event of any stream has', async () => {
      const { log, id } = await stream()
      const ids = await appendAll(log, id, deltas(5))
      expect(typeof log.startId).toBe('string')
      expect(ids).not.toContain(log.startId)
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
}
