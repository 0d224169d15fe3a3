// Graceful shutdown (SIGTERM, agreement A7): new streams are refused, connected clients are told
// to reconnect, running generations finish into the log within the grace period, and the ones
// that cannot are ended with a final error, never left hanging.
import { createEventStream } from '@unbroken/client'
import { readSse, type SseEvent, waitFor } from '@unbroken/test-kit'
import { describe, expect, it } from 'vitest'
import { chat, directFetch, lastIdOf, postStream, startTestProxy, textOf } from './test-proxy'
import { composeAnswer, createRandom, seedOf, tokenize } from './upstreams/simulated-text'

describe('shutdown', () => {
  it('refuses new streams with 503 while a running one finishes, its client resuming here', async () => {
    const proxy = await startTestProxy(['--shutdown-grace', '20s', '--sim-rate', '200'])
    const request = { messages: [{ role: 'user' as const, content: 'finish me' }], seed: 1 }
    const stream = createEventStream(`${proxy.url}/v1/streams`, {
      fetch: directFetch,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(request),
      // The drain's jittered retry is for real clients; here the test resumes at once.
      shouldRetry: ({ retry }) => (retry ? 10 : false),
    })
    const events: SseEvent[] = []
    const reading = (async () => {
      for await (const { type, data } of stream) events.push({ event: type, data })
    })()
    await waitFor(() => events.some((event) => event.event === 'delta'))
    const stopped = proxy.shutdown()
    const refused = await postStream(proxy, chat('too late'))
    expect(refused.status).toBe(503)
    expect(refused.headers.get('retry-after')).toBe('1')
    expect(await refused.json()).toMatchObject({ code: 'shutting-down', retryable: true })
    const ready = await directFetch(`${proxy.url}/readyz`)
    expect(ready.status).toBe(503)
    await reading
    const answer = tokenize(composeAnswer(createRandom(seedOf(request)), request.messages))
    expect(textOf(events)).toBe(answer.join(''))
    expect(stream.getSnapshot()).toMatchObject({ closeReason: 'done', reconnects: 1 })
    await stopped
    expect(proxy.logs.at(-1)).toMatchObject({ msg: 'proxy stopped' })
  })

  it('ends a generation still running when the grace runs out with a final producer-lost', async () => {
    const proxy = await startTestProxy(['--shutdown-grace', '300ms'])
    const stalled = await postStream(proxy, chat('stall'), { 'x-unbroken-fault': 'stall-after=2' })
    const id = stalled.headers.get('content-location')
    const reader = readSse(stalled)
    const opening = await reader.take(2)
    expect(opening.map((event) => event.event)).toEqual(['meta', 'delta'])
    const stopped = proxy.shutdown()
    // The drain closes the connection without a terminal event: a reconnect signal, not an end.
    const first = [...opening, ...(await reader.rest())]
    expect(first.at(-1)?.event).toBe('delta')
    const resumed = await directFetch(`${proxy.url}${id}`, {
      headers: { 'last-event-id': lastIdOf(first) },
    })
    const rest = await readSse(resumed).rest()
    await stopped
    expect(rest.at(-1)?.event).toBe('error')
    expect(JSON.parse(rest.at(-1)?.data as string)).toMatchObject({
      code: 'producer-lost',
      retryable: false,
    })
    expect(proxy.records().at(-1)).toMatchObject({ status: 'incomplete', end: 'shutdown' })
  })
})
