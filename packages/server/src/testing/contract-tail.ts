import { describe, expect, it, vi } from 'vitest'
import type { LoggedEvent } from '../log'
import { type ContractKit, collect, macrotask, random } from './contract-kit'

/** The live tail, and the gap-free, duplicate-free hand-off under concurrent appends. */
export function describeTailContract(kit: ContractKit): void {
  const { logWith, newId, stream, appendAll, deltas, expiryTimeoutMs, seeds } = kit
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
}
