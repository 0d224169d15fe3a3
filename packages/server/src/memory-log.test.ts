import { describe, expect, it } from 'vitest'
import { createMemoryEventLog } from './memory-log'
import { describeEventLogContract } from './testing'

describeEventLogContract('memory', (limits) => createMemoryEventLog(limits))

describe('createMemoryEventLog', () => {
  it('numbers events per stream from "1"', async () => {
    const log = createMemoryEventLog()
    await log.create('a')
    await log.create('b')
    await log.append('a', { data: 'x' })
    expect(await log.append('a', { data: 'y' })).toBe('2')
    expect(await log.append('b', { data: 'z' })).toBe('1')
    await log.close()
  })

  it('accepts "0" as the cursor before the first event', async () => {
    const log = createMemoryEventLog()
    await log.create('a')
    await log.append('a', { data: 'x' })
    await log.complete('a')
    const ids: string[] = []
    for await (const event of log.read('a', { after: '0' })) ids.push(event.id)
    expect(ids).toEqual(['1'])
    await log.close()
  })

  it('keeps every event its id, type and data across the compaction that trimming triggers', async () => {
    const log = createMemoryEventLog({ maxEvents: 1000 })
    await log.create('a')
    const typeOf = (i: number) => (i % 2 === 0 ? 'even' : 'odd')
    // 2,000 trimmed: the store compacts once its dead prefix passes 1,024 and half its length.
    for (let i = 1; i <= 3000; i += 1) await log.append('a', { event: typeOf(i), data: `${i}` })
    await log.complete('a')
    const seen: (string | undefined)[][] = []
    for await (const e of log.read('a', { after: '2000' })) seen.push([e.id, e.event, e.data])
    const expected = Array.from({ length: 1000 }, (_, k) => [
      `${2001 + k}`,
      typeOf(2001 + k),
      `${2001 + k}`,
    ])
    expect(seen).toEqual(expected)
    await log.close()
  })

  it('counts maxBytes in UTF-8 bytes, not UTF-16 units', async () => {
    const log = createMemoryEventLog({ maxBytes: 8 })
    await log.create('a')
    // Two 4-byte code points: 8 bytes, although .length is 4.
    await log.append('a', { data: '😀😀' })
    await expect(log.append('a', { data: '😀😀x' })).rejects.toMatchObject({
      code: 'stream-too-large',
    })
    await log.close()
  })

  it('rejects every call after close with log-unavailable', async () => {
    const log = createMemoryEventLog()
    await log.close()
    await expect(log.create('a')).rejects.toMatchObject({ code: 'log-unavailable' })
  })

  it('refuses a ttlMs or maxStreamAgeMs longer than a timer can wait, which would expire at once', () => {
    for (const name of ['ttlMs', 'maxStreamAgeMs']) {
      expect(() => createMemoryEventLog({ [name]: 30 * 24 * 60 * 60_000 })).toThrow(
        expect.objectContaining({ code: 'invalid-argument' }),
      )
    }
  })

  it('takes Infinity as no count or byte limit', async () => {
    const log = createMemoryEventLog({
      maxEvents: Number.POSITIVE_INFINITY,
      maxBytes: Number.POSITIVE_INFINITY,
    })
    await log.create('a')
    expect(await log.append('a', { data: 'x' })).toBe('1')
    await log.close()
  })

  it('rejects a limit that is not a positive number at creation', () => {
    expect(() => createMemoryEventLog({ maxEvents: 0 })).toThrow(
      expect.objectContaining({ code: 'invalid-argument' }),
    )
  })

  it('calls a listener registered after cancel, so a late producer still stops', async () => {
    const log = createMemoryEventLog()
    await log.create('a')
    await log.cancel('a')
    const called = await new Promise<boolean>((resolve) => {
      log.onCancel('a', () => resolve(true))
    })
    expect(called).toBe(true)
    await log.close()
  })
})
