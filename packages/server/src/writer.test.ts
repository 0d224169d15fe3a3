// Timer-driven behaviour (coalescing, keepalive, auth expiry, backpressure time) under fake timers,
// on the web sink so that no socket's real clock is involved.

import { parseSse } from '@unbroken/test-kit'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createEventHub } from './hub'
import type { EventHubOptions, MetricsChange } from './types'

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 })
})
afterEach(() => {
  vi.useRealTimers()
})

function open(options: EventHubOptions) {
  return createEventHub(options).web(new Request('http://localhost/s'))
}

const decoder = new TextDecoder()
const nextTick = () => new Promise<void>((resolve) => process.nextTick(resolve))
// Past the 12 KiB batch cap a send goes out at once, and 64 KiB is past the web body's 16 KiB
// queue: backpressure.
const FILL = 'x'.repeat(64 * 1024)

describe('coalescing', () => {
  it('hands same-tick sends over as one chunk on the next tick, without any timer', async () => {
    const { writer, response } = open({ keepAliveMs: 0 })
    const reader = (response.body as ReadableStream<Uint8Array>).getReader()
    await reader.read()
    const opened = writer.metrics().bytes
    for (let i = 0; i < 20; i++) void writer.send({ data: String(i) })
    // Timers are frozen here, so the batch can only have gone out through a tick, not a timer.
    await nextTick()
    expect(writer.metrics().bytes).toBeGreaterThan(opened)
    expect(vi.getTimerCount()).toBe(0)
    const chunk = await reader.read()
    expect(parseSse(decoder.decode(chunk.value))).toHaveLength(20)
  })
})

describe('lifecycle', () => {
  // The writer makes its `done` promise on first use, so an idle connection does not pay for it;
  // a web body closes inside `end()`, before `end()` first reads it.
  it('resolves end() on a web body, which is closed before end() returns', async () => {
    const { writer } = open({ keepAliveMs: 0 })
    const first = await Promise.race([
      writer.end().then(() => 'ended'),
      nextTick().then(() => 'still pending'),
    ])
    expect(first).toBe('ended')
  })
})

describe('keepalive', () => {
  it('writes a comment after keepAliveMs of silence, not before', () => {
    const { writer } = open({ keepAliveMs: 1000 })
    const opened = writer.metrics().bytes
    vi.advanceTimersByTime(999)
    expect(writer.metrics().bytes).toBe(opened)
    vi.advanceTimersByTime(1)
    expect(writer.metrics().bytes).toBe(opened + ':\n'.length)
  })

  it('sends none while events keep flowing', async () => {
    const { writer, response } = open({ keepAliveMs: 1000 })
    for (let i = 0; i < 10; i++) {
      await writer.send({ data: `t${i}` })
      vi.advanceTimersByTime(500)
    }
    void writer.end()
    expect(await response.text()).not.toMatch(/^:$/m)
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
  it('names a numeric last id as text in auth-expired, as clients read ids', async () => {
    const { writer, response } = open({ expiresAt: Date.now() + 10_000, authLeadMs: 2000 })
    await writer.send({ id: 42, data: 'x' })
    vi.advanceTimersByTime(8000)
    const last = parseSse(await response.text()).at(-1)
    expect(JSON.parse(last?.data ?? '')).toEqual({ expiresAt: 1_010_000, lastEventId: '42' })
  })

  it('sends auth-expired authLeadMs before expiresAt, then ends the connection', async () => {
    const { writer, response } = open({ expiresAt: Date.now() + 10_000, authLeadMs: 2000 })
    await writer.send({ id: 'e-1', data: 'x' })
    vi.advanceTimersByTime(7999)
    expect(writer.closed).toBe(false)
    vi.advanceTimersByTime(1)
    expect(writer.signal.reason).toBe('auth-expired')
    const last = parseSse(await response.text()).at(-1)
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

  it('reports a throwing expiresAt function to onError', () => {
    const down = new Error('token store down')
    const seen: unknown[] = []
    open({
      expiresAt: () => {
        throw down
      },
      onError: (error) => seen.push(error),
    })
    expect(seen).toEqual([down])
  })

  it('does not re-read an expiresAt function that returned Infinity', () => {
    const expiresAt = vi.fn(() => Number.POSITIVE_INFINITY)
    const { writer } = open({ keepAliveMs: 0, expiresAt })
    vi.advanceTimersByTime(2 ** 32)
    expect(expiresAt).toHaveBeenCalledOnce()
    expect(writer.closed).toBe(false)
  })
})

describe('metrics', () => {
  it('counts a drain wait that ends at the drain timeout as backpressure, per stream and in aggregate', async () => {
    const hub = createEventHub({ keepAliveMs: 0, drainTimeoutMs: 5000 })
    const changes: MetricsChange[] = []
    hub.onMetrics((change) => changes.push(change))
    const { writer } = hub.web(new Request('http://localhost/s'))
    await writer.send({ data: FILL })
    const stuck = writer.send({ data: 'stuck' })
    vi.advanceTimersByTime(5000)
    expect(await stuck).toBe('closed')
    const counted = { backpressureCount: 1, backpressureMs: 5000, drainTimeouts: 1 }
    expect(writer.metrics()).toMatchObject({ ...counted, closeReason: 'slow-client' })
    expect(hub.metrics()).toMatchObject(counted)
    expect(hub.metrics().disconnects['slow-client']).toBe(1)
    expect(changes.map((change) => change.type)).toEqual([
      'stream-open',
      'drain-timeout',
      'backpressure',
      'stream-close',
    ])
  })

  it('counts the time until a slow reader pulls again', async () => {
    const hub = createEventHub({ keepAliveMs: 0 })
    const changes: MetricsChange[] = []
    hub.onMetrics((change) => changes.push(change))
    const { writer, response } = hub.web(new Request('http://localhost/s'))
    await writer.send({ data: FILL })
    const waiting = writer.send({ data: 'next' })
    vi.advanceTimersByTime(1200)
    const reader = (response.body as ReadableStream<Uint8Array>).getReader()
    let settled = false
    void waiting.then(() => {
      settled = true
    })
    while (!settled) await reader.read()
    expect(await waiting).toBe('written')
    expect(writer.metrics()).toMatchObject({ backpressureCount: 1, backpressureMs: 1200 })
    expect(hub.metrics()).toMatchObject({ backpressureCount: 1, backpressureMs: 1200 })
    expect(changes).toContainEqual({ type: 'backpressure', durationMs: 1200 })
  })

  it('reports an auth expiry to onMetrics and as the stream close reason', () => {
    const hub = createEventHub({ expiresAt: Date.now() + 10_000, authLeadMs: 2000 })
    const changes: MetricsChange['type'][] = []
    hub.onMetrics((change) => changes.push(change.type))
    const { writer } = hub.web(new Request('http://localhost/s'))
    vi.advanceTimersByTime(8000)
    expect(changes).toEqual(['stream-open', 'auth-expired', 'stream-close'])
    expect(writer.metrics().closeReason).toBe('auth-expired')
    expect(hub.metrics().authExpiries).toBe(1)
  })
})
