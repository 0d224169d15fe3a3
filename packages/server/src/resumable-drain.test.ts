import { readSse } from '@unbroken/test-kit'
import { describe, expect, it } from 'vitest'
import { createEventHub } from './hub'
import { createMemoryEventLog } from './memory-log'
import { cleanUpAfterEach, drivenProducer, setup } from './test-resumable'

cleanUpAfterEach()

describe('drain', () => {
  it('refuses a new stream with 503 shutting-down and Retry-After', async () => {
    const driven = drivenProducer()
    const { url, streams } = await setup(driven.producer)
    const draining = streams.drain({ deadlineMs: 1000 })
    const refused = await fetch(url('/streams'), { method: 'POST' })
    expect(refused.status).toBe(503)
    expect(['1', '2']).toContain(refused.headers.get('retry-after'))
    expect(await refused.json()).toMatchObject({ code: 'shutting-down', retryable: true })
    await draining
    expect(driven.streams).toHaveLength(0)
  })

  it('refuses start() with shutting-down', async () => {
    const driven = drivenProducer()
    const { streams } = await setup()
    const draining = streams.drain({ deadlineMs: 0 })
    await expect(streams.start(driven.producer)).rejects.toMatchObject({ code: 'shutting-down' })
    await draining
    expect(driven.streams).toHaveLength(0)
  })

  it('tells a connected client to reconnect: a jittered retry: and no terminal event', async () => {
    const driven = drivenProducer()
    const hub = createEventHub({ keepAliveMs: 0, retryMs: 200 })
    const { url, streams } = await setup(driven.producer, { hub })
    const response = await fetch(url('/streams'), { method: 'POST' })
    const body = response.body?.pipeThrough(new TextDecoderStream()).getReader()
    driven.push('a')
    let received = ''
    while (!/^data: a\n(id: .*\n)?\n/m.test(received)) received += (await body?.read())?.value ?? ''
    const draining = streams.drain({ deadlineMs: 5000, retryJitterMs: 300 })
    let ending = ''
    for (let chunk = await body?.read(); chunk && !chunk.done; chunk = await body?.read()) {
      ending += chunk.value
    }
    const retry = Number(/^retry: (\d+)$/m.exec(ending)?.[1])
    expect(retry).toBeGreaterThanOrEqual(200)
    expect(retry).toBeLessThanOrEqual(500)
    expect(ending).not.toMatch(/^(event|data):/m)
    driven.finish()
    await draining
  })

  it('lets a running producer finish into the log and serves its resume meanwhile', async () => {
    const driven = drivenProducer()
    const { url, streams } = await setup(driven.producer)
    const first = await fetch(url('/streams'), { method: 'POST' })
    const location = first.headers.get('content-location') ?? ''
    driven.push('a')
    const reader = readSse(first)
    const [a] = await reader.take(1)
    const draining = streams.drain({ deadlineMs: 10_000, retryJitterMs: 0 })
    expect(await reader.rest()).toEqual([])
    const resumed = await fetch(url(location), { headers: { 'Last-Event-ID': a?.id ?? '' } })
    expect(resumed.status).toBe(200)
    driven.push('b')
    driven.finish()
    expect((await readSse(resumed).rest()).map((e) => e.data)).toEqual(['b', '{}'])
    await draining
    expect(driven.streams[0]?.signal.aborted).toBe(false)
  })

  it('stops what still runs at the deadline with a final producer-lost', async () => {
    const driven = drivenProducer()
    const { url, streams, log } = await setup(driven.producer)
    const first = await fetch(url('/streams'), { method: 'POST' })
    const id = (first.headers.get('content-location') ?? '').split('/').pop() ?? ''
    await first.body?.cancel()
    const stream = await driven.started
    await streams.drain({ deadlineMs: 50 })
    expect(stream.signal.reason).toBe('shutting-down')
    const logged = []
    for await (const event of log.read(id)) logged.push(event)
    expect(logged.at(-1)?.event).toBe('error')
    expect(JSON.parse(logged.at(-1)?.data ?? '{}')).toMatchObject({
      code: 'producer-lost',
      retryable: false,
    })
  })

  it('sends a resume of a live stream produced elsewhere to another instance', async () => {
    const log = createMemoryEventLog()
    const driven = drivenProducer()
    // Quiet: each registry's cleanup closes the shared log under the other's running producer.
    const producing = await setup(driven.producer, { log, onError: () => {} })
    const draining = await setup(undefined, { log, onError: () => {} })
    const first = await fetch(producing.url('/streams'), { method: 'POST' })
    await first.body?.cancel()
    await draining.streams.drain({ deadlineMs: 0 })
    const resumed = await fetch(draining.url(first.headers.get('content-location') ?? ''))
    expect(resumed.status).toBe(503)
    expect(await resumed.json()).toMatchObject({ code: 'shutting-down', retryable: true })
  })

  it('serves a finished stream to the end while draining', async () => {
    const driven = drivenProducer()
    const { url, streams } = await setup(driven.producer)
    const first = await fetch(url('/streams'), { method: 'POST' })
    driven.push('a')
    driven.finish()
    const all = await readSse(first).rest()
    const draining = streams.drain({ deadlineMs: 10_000 })
    const again = await fetch(url(first.headers.get('content-location') ?? ''))
    expect(await readSse(again).rest()).toEqual(all)
    await draining
  })

  it('returns the same shutdown to every call', async () => {
    const { streams } = await setup()
    const once = streams.drain({ deadlineMs: 0 })
    expect(streams.drain({ deadlineMs: 5000 })).toBe(once)
    expect(streams.close()).toBe(once)
    await once
  })
})
