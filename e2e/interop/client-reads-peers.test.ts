import { createEventStream, type EventStreamOptions } from '@unbroken/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { assertSameEvents } from '../support/compare'
import { collect } from '../support/read'
import { type Peer, startBetterSse, startH3, startHono } from './peers'
import { startOpenAiStyle, startRawNodeHttp } from './raw-peers'

type Case = { start: () => Promise<Peer>; options?: EventStreamOptions }

// OpenAI streams have no `event: done`; `data: [DONE]` is their terminal event.
const openAiDone: EventStreamOptions = { isDone: (event) => event.data === '[DONE]' }

const PEERS: Record<string, Case> = {
  'better-sse': { start: startBetterSse },
  'Hono streamSSE': { start: startHono },
  h3: { start: startH3 },
  'raw node:http': { start: startRawNodeHttp },
  'an OpenAI-style stream': { start: startOpenAiStyle, options: openAiDone },
}

describe.each(Object.entries(PEERS))('@unbroken/client reading %s', (name, { start, options }) => {
  let peer: Peer

  beforeAll(async () => {
    peer = await start()
  })
  afterAll(() => peer.close())

  it('delivers the same events, ids, types and data', async () => {
    const { events, error } = await collect(
      createEventStream(peer.url, { ...options, maxAttempts: 1 }),
    )
    expect(error).toBeUndefined()
    assertSameEvents({ scenario: `client reading ${name}` }, peer.expected, events)
  })

  it('ends cleanly on the terminal event, after a single request', async () => {
    const before = peer.requests()
    const { snapshot } = await collect(createEventStream(peer.url, { ...options, maxAttempts: 1 }))
    expect(snapshot).toMatchObject({ status: 'closed', closeReason: 'done', reconnects: 0 })
    expect(peer.requests() - before).toBe(1)
  })
})

describe('@unbroken/client reading a raw node:http server that drops the connection', () => {
  let peer: Peer

  beforeAll(async () => {
    peer = await startRawNodeHttp()
  })
  afterAll(() => peer.close())

  it('resumes with Last-Event-ID and delivers every event once', async () => {
    const stream = createEventStream(`${peer.url}?drop=4`, {
      backoff: { initialMs: 0 },
      maxAttempts: 2,
    })
    const scenario = 'client resuming a raw server'
    const { events, snapshot } = await collect(stream, { what: scenario })
    assertSameEvents({ scenario }, peer.expected, events)
    expect(snapshot).toMatchObject({ closeReason: 'done', reconnects: 1 })
  })
})
