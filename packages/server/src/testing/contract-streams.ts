import { describe, expect, it } from 'vitest'
import { type ContractKit, collect } from './contract-kit'

/** Stream lifecycle, appends and replay from a cursor. */
export function describeStreamContract(kit: ContractKit): void {
  const { logWith, newId, stream, appendAll, deltas } = kit
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
}
