import { describe, expect, it, vi } from 'vitest'
import { type ContractKit, collect } from './contract-kit'

/** Count and byte limits, TTL and max age, and cancellation. */
export function describeBoundsContract(kit: ContractKit): void {
  const { logWith, newId, stream, appendAll, deltas, expiryTimeoutMs } = kit
  describe('limits', () => {
    it('keeps only the newest maxEvents events', async () => {
      const { log, id } = await stream({ maxEvents: 3 })
      const ids = await appendAll(log, id, deltas(10))
      await log.complete(id)
      expect((await collect(log.read(id, { after: ids[6] }))).map((e) => e.id)).toEqual(
        ids.slice(7),
      )
    })

    it('refuses to read from the start once the first event was trimmed, never from whatever is left', async () => {
      const { log, id } = await stream({ maxEvents: 3 })
      await appendAll(log, id, deltas(10))
      await log.complete(id)
      await expect(collect(log.read(id))).rejects.toMatchObject({ code: 'cursor-expired' })
      await expect(collect(log.read(id, { after: log.startId }))).rejects.toMatchObject({
        code: 'cursor-expired',
      })
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
      // Each event is 'delta' (5 bytes) + 'token N' (7 bytes) = 12 bytes: 8 of them fit in 100.
      const ids = await appendAll(log, id, deltas(10))
      await log.complete(id)
      const kept = await collect(log.read(id, { after: ids[1] }))
      expect(kept.map((e) => e.id)).toEqual(ids.slice(2))
      await expect(collect(log.read(id, { after: ids[0] }))).rejects.toMatchObject({
        code: 'cursor-expired',
      })
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
}
