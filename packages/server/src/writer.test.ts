// Timer-driven behaviour (keepalive, auth expiry) under fake timers, on the web sink so that no
// socket's real clock is involved.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createEventHub } from './hub'
import { parseEvents } from './test-helpers'
import type { EventHubOptions } from './types'

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 })
})
afterEach(() => {
  vi.useRealTimers()
})

function open(options: EventHubOptions) {
  return createEventHub(options).web(new Request('http://localhost/s'))
}

describe('keepalive', () => {
  it('writes a comment after keepAliveMs of silence, not before', () => {
    const { writer } = open({ keepAliveMs: 1000 })
    const opened = writer.metrics().bytes
    vi.advanceTimersByTime(999)
    expect(writer.metrics().bytes).toBe(opened)
    vi.advanceTimersByTime(1)
    expect(writer.metrics().bytes).toBe(opened + ':\n\n'.length)
  })

  it('sends none while events keep flowing', async () => {
    const { writer, response } = open({ keepAliveMs: 1000 })
    for (let i = 0; i < 10; i++) {
      await writer.send({ data: `t${i}` })
      vi.advanceTimersByTime(500)
    }
    void writer.end()
    expect(await response.text()).not.toContain(':\n\n')
  })

  it('keeps every connection on one shared interval timer', () => {
    const setInterval = vi.spyOn(globalThis, 'setInterval')
    const hub = createEventHub({ keepAliveMs: 1000 })
    for (let i = 0; i < 100; i++) hub.web(new Request('http://localhost/s'))
    expect(setInterval).toHaveBeenCalledTimes(1)
  })

  it('can be disabled with 0', () => {
    const { writer } = open({ keepAliveMs: 0 })
    const opened = writer.metrics().bytes
    vi.advanceTimersByTime(60_000)
    expect(writer.metrics().bytes).toBe(opened)
  })
})

describe('auth expiry', () => {
  it('sends auth-expired authLeadMs before expiresAt, then ends the connection', async () => {
    const { writer, response } = open({ expiresAt: Date.now() + 10_000, authLeadMs: 2000 })
    await writer.send({ id: 'e-1', data: 'x' })
    vi.advanceTimersByTime(7999)
    expect(writer.closed).toBe(false)
    vi.advanceTimersByTime(1)
    expect(writer.signal.reason).toBe('auth-expired')
    const last = parseEvents(await response.text()).at(-1)
    expect(last?.event).toBe('auth-expired')
    expect(JSON.parse(last?.data ?? '')).toEqual({ expiresAt: 1_010_000, lastEventId: 'e-1' })
  })

  it('re-reads a function expiresAt, so a refreshed credential keeps the connection', () => {
    let expiresAt = Date.now() + 10_000
    const { writer } = open({ expiresAt: () => expiresAt, authLeadMs: 2000 })
    vi.advanceTimersByTime(5000)
    expiresAt += 50_000
    vi.advanceTimersByTime(5000)
    expect(writer.closed).toBe(false)
    vi.advanceTimersByTime(50_000)
    expect(writer.signal.reason).toBe('auth-expired')
  })

  it('ends at once when the credential is already inside the lead time', () => {
    const hub = createEventHub({ expiresAt: Date.now() + 1000, authLeadMs: 5000 })
    const { writer } = hub.web(new Request('http://localhost/s'))
    expect(writer.signal.reason).toBe('auth-expired')
    expect(hub.metrics()).toMatchObject({ authExpiries: 1, activeStreams: 0 })
    expect(hub.metrics().disconnects['auth-expired']).toBe(1)
  })

  it('treats an expiresAt function that throws as expired', () => {
    const { writer } = open({
      expiresAt: () => {
        throw new Error('token store down')
      },
    })
    expect(writer.signal.reason).toBe('auth-expired')
  })
})
