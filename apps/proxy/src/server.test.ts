// Graceful shutdown (SIGTERM): new streams are refused, running generations finish into the log
// within the grace period, and the ones that cannot are ended, never left hanging.
import { readSse, waitFor } from '@unbroken/test-kit'
import { describe, expect, it } from 'vitest'
import { chat, directFetch, postStream, startTestProxy } from './test-proxy'

describe('shutdown', () => {
  it('refuses new streams with 503 while running ones finish into the log', async () => {
    const proxy = await startTestProxy(['--shutdown-grace', '20s', '--sim-rate', '200'])
    const running = await postStream(proxy, chat('finish me', { seed: 1 }))
    const reading = readSse(running).rest()
    await waitFor(() => proxy.logs.some((line) => line.msg === 'stream started'))
    const stopped = proxy.shutdown()
    const refused = await postStream(proxy, chat('too late'))
    expect(refused.status).toBe(503)
    expect(refused.headers.get('retry-after')).toBe('1')
    expect(await refused.json()).toMatchObject({ code: 'shutting-down', retryable: true })
    const ready = await directFetch(`${proxy.url}/readyz`)
    expect(ready.status).toBe(503)
    const events = await reading
    expect(events.at(-1)?.event).toBe('done')
    await stopped
    expect(proxy.logs.at(-1)).toMatchObject({ msg: 'proxy stopped', unfinished: 0 })
  })

  it('ends a generation still running at the end of the grace period, never leaving it open', async () => {
    const proxy = await startTestProxy(['--shutdown-grace', '100ms'])
    const stalled = await postStream(proxy, chat('stall'), { 'x-unbroken-fault': 'stall-after=2' })
    const reading = readSse(stalled).rest()
    await waitFor(() => proxy.logs.some((line) => line.msg === 'stream started'))
    await proxy.shutdown()
    const events = await reading
    expect(events.at(-1)?.event).toBe('error')
    // Final, not the retryable shutting-down: no instance will finish this generation.
    expect(JSON.parse(events.at(-1)?.data as string)).toMatchObject({
      code: 'producer-lost',
      retryable: false,
    })
    expect(proxy.records().at(-1)).toMatchObject({ status: 'incomplete', end: 'shutdown' })
    expect(proxy.logs.at(-1)).toMatchObject({ msg: 'proxy stopped', unfinished: 1 })
  })
})
