import { afterEach, describe, expect, it, vi } from 'vitest'
import { backoffDelay, parseRetryAfter, wait } from './backoff'

afterEach(() => {
  vi.useRealTimers()
})

describe('backoffDelay', () => {
  const top = 1

  it('doubles from the base on each consecutive failure', () => {
    expect([1, 2, 3, 4].map((n) => backoffDelay(n, 100, {}, top))).toEqual([100, 200, 400, 800])
  })

  it('stops growing at maxMs', () => {
    expect(backoffDelay(20, 1000, { maxMs: 5000 }, top)).toBe(5000)
  })

  it('never caps below the base the server asked for', () => {
    expect(backoffDelay(3, 50_000, { maxMs: 30_000 }, top)).toBe(50_000)
  })

  it('applies full jitter: a random fraction of the exponential delay', () => {
    expect(backoffDelay(3, 1000, {}, 0.25)).toBe(1000)
    expect(backoffDelay(3, 1000, {}, 0)).toBe(0)
  })

  it('uses the multiplier', () => {
    expect(backoffDelay(3, 10, { multiplier: 3 }, top)).toBe(90)
  })

  it('stays 0 when the base is 0 (retry: 0)', () => {
    expect(backoffDelay(5, 0, {}, top)).toBe(0)
  })
})

describe('parseRetryAfter', () => {
  it('reads delay-seconds', () => {
    expect(parseRetryAfter('3', 0)).toBe(3000)
    expect(parseRetryAfter(' 0 ', 0)).toBe(0)
  })

  it('reads an HTTP-date relative to now', () => {
    vi.useFakeTimers()
    vi.setSystemTime(new Date('2025-01-01T00:00:00Z'))
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:07 GMT', Date.now())).toBe(7000)
  })

  it('treats a date in the past as now', () => {
    expect(parseRetryAfter('Wed, 01 Jan 2020 00:00:00 GMT', Date.now())).toBe(0)
  })

  it('gives 0 for a missing or unreadable value', () => {
    expect([null, '', 'soon', '-5', '1.5'].map((value) => parseRetryAfter(value, 0))).toEqual([
      0, 0, 0, 0, 0,
    ])
  })
})

describe('wait', () => {
  it('resolves after exactly the delay', async () => {
    vi.useFakeTimers()
    let resolved = false
    void wait(1000, new AbortController().signal).then(() => {
      resolved = true
    })
    await vi.advanceTimersByTimeAsync(999)
    expect(resolved).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    expect(resolved).toBe(true)
  })

  it('resolves at once on abort and clears its timer', async () => {
    vi.useFakeTimers()
    const controller = new AbortController()
    const done = wait(60_000, controller.signal)
    controller.abort()
    await done
    expect(vi.getTimerCount()).toBe(0)
  })

  it('resolves at once, with no timer left, when the signal was aborted before the wait', async () => {
    // close() in onReconnect aborts before the backoff wait starts; a held 30 s timer would
    // then keep Node alive after the stream had ended.
    vi.useFakeTimers()
    let resolved = false
    void wait(60_000, AbortSignal.abort(), true).then(() => {
      resolved = true
    })
    await vi.advanceTimersByTimeAsync(0)
    expect(resolved).toBe(true)
    expect(vi.getTimerCount()).toBe(0)
  })
})
