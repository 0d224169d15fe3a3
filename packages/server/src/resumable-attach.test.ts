import { readSse, waitFor } from '@unbroken/test-kit'
import { describe, expect, it } from 'vitest'
import type { EventLog } from './log'
import { createMemoryEventLog } from './memory-log'
import type { Producer } from './resumable-producer'
import { cleanUpAfterEach, drivenProducer, setup } from './test-resumable'

cleanUpAfterEach()

/** The body text up to and including the first blank line: the opening and the cursor block. */
async function opening(response: Response): Promise<string> {
  const reader = response.body?.pipeThrough(new TextDecoderStream()).getReader()
  let text = ''
  while (reader && !text.includes('\n\n')) {
    const chunk = await reader.read()
    if (chunk.done) break
    text += chunk.value
  }
  await reader?.cancel()
  return text.slice(0, text.indexOf('\n\n') + 2)
}

/** A memory log whose open readers are counted, to see that abandoned requests let go of them. */
function countingLog(): { log: EventLog; readers: () => number } {
  const inner = createMemoryEventLog()
  let open = 0
  const log: EventLog = {
    ...inner,
    async *read(streamId, options) {
      open += 1
      try {
        yield* inner.read(streamId, options)
      } finally {
        open -= 1
      }
    },
  }
  return { log, readers: () => open }
}

const location = (response: Response) => response.headers.get('content-location') ?? ''

describe('the cursor block (protocol v1 §5)', () => {
  it("starts a POST's stream with the log's start id right after the opening", async () => {
    const { url, log } = await setup(drivenProducer().producer)
    const response = await fetch(url('/streams'), { method: 'POST' })
    expect(await opening(response)).toBe(`: ok\nretry: 1000\nid: ${log.startId}\n\n`)
  })

  it("confirms a GET's Last-Event-ID as the cursor it honoured", async () => {
    const driven = drivenProducer()
    const { url } = await setup(driven.producer)
    const first = await fetch(url('/streams'), { method: 'POST' })
    driven.push('a', 'b')
    const [a] = await readSse(first).take(1)
    const resumed = await fetch(url(location(first)), { headers: { 'Last-Event-ID': a?.id ?? '' } })
    expect(await opening(resumed)).toBe(`: ok\nretry: 1000\nid: ${a?.id}\n\n`)
  })

  it('starts a GET without a cursor at the start id', async () => {
    const driven = drivenProducer()
    const { url, log } = await setup(driven.producer)
    const first = await fetch(url('/streams'), { method: 'POST' })
    await first.body?.cancel()
    expect(await opening(await fetch(url(location(first))))).toContain(`id: ${log.startId}\n\n`)
  })
})

describe('a resume never starts from whatever is left (issue 9 #3)', () => {
  // The scenario: the first connection delivers no event, the producer writes 1,000
  // while the log keeps 100, and the client comes back with nothing but the cursor block.
  async function trimmedWhileAway() {
    const driven = drivenProducer()
    const { url, log } = await setup(driven.producer, {
      log: createMemoryEventLog({ maxEvents: 100 }),
    })
    const first = await fetch(url('/streams'), { method: 'POST' })
    const cursor = /^id: (.*)$/m.exec(await opening(first))?.[1]
    driven.push(...Array.from({ length: 1_000 }, (_, i) => String(i + 1)))
    driven.finish()
    const id = location(first).split('/').pop() ?? ''
    await waitFor(async () => (await log.info(id))?.status === 'complete')
    return { url, cursor, streamUrl: location(first) }
  }

  it('answers 410 cursor-expired to the cursor block of a connection that got no event', async () => {
    const { url, cursor, streamUrl } = await trimmedWhileAway()
    expect(cursor).toBeDefined()
    const resumed = await fetch(url(streamUrl), { headers: { 'Last-Event-ID': cursor ?? '' } })
    expect(resumed.status).toBe(410)
    expect(await resumed.json()).toMatchObject({ code: 'cursor-expired', retryable: false })
  })

  it('answers 410 cursor-expired to a GET without a cursor once the first event is trimmed', async () => {
    const { url, streamUrl } = await trimmedWhileAway()
    const resumed = await fetch(url(streamUrl))
    expect(resumed.status).toBe(410)
    expect(await resumed.json()).toMatchObject({ code: 'cursor-expired' })
  })
})

describe('a resume from before the first event of a live stream (issue 9 #4)', () => {
  it('answers its headers at once, then relays the first event when it comes', async () => {
    const driven = drivenProducer()
    const { url, streams, log } = await setup(undefined, {})
    const started = await streams.start(driven.producer)
    const resumed = await fetch(url(started.url), { headers: { 'Last-Event-ID': log.startId } })
    expect(resumed.status).toBe(200)
    driven.push('first')
    const [first] = await readSse(resumed).take(1)
    expect(first?.data).toBe('first')
  })

  it('releases every abandoned request: its connection and its log reader', async () => {
    const { log, readers } = countingLog()
    const { url, streams, hub } = await setup(undefined, { log })
    const started = await streams.start(drivenProducer().producer)
    const clients = Array.from({ length: 50 }, () => new AbortController())
    const responses = await Promise.all(
      clients.map((client) =>
        fetch(url(started.url), {
          headers: { 'Last-Event-ID': log.startId },
          signal: client.signal,
        }),
      ),
    )
    expect(responses.map((r) => r.status)).toEqual(clients.map(() => 200))
    expect(readers()).toBe(50)
    for (const client of clients) client.abort()
    await waitFor(() => readers() === 0 && hub.metrics().activeStreams === 0, {
      what: 'abandoned resumes to let go of their readers and connections',
    })
  })

  it('answers 410 at once to any other cursor on a stream with no event', async () => {
    const { url, streams } = await setup()
    const started = await streams.start(drivenProducer().producer)
    const resumed = await fetch(url(started.url), { headers: { 'Last-Event-ID': '7' } })
    expect(resumed.status).toBe(410)
  })

  it('answers 410 to a cursor with a line break, which no log issues (query form)', async () => {
    const driven = drivenProducer()
    const { url, streams } = await setup()
    const started = await streams.start(driven.producer)
    driven.push('a')
    const resumed = await fetch(url(`${started.url}?lastEventId=1%0Aevent%3A%20forged`))
    expect(resumed.status).toBe(410)
  })
})

describe('a logged terminal event is replayed as it is (issue 9 #6)', () => {
  // A producer that gives up with its own error, and says (wrongly) that retrying helps.
  const failing: Producer<unknown> = async (stream) => {
    await stream.send({ event: 'delta', data: 'partial' })
    await stream.send({
      event: 'error',
      data: JSON.stringify({
        code: 'upstream-failed',
        message: 'The model failed.',
        retryable: true,
        retryAfterMs: 10,
      }),
    })
  }

  it("logs a producer's own error as final: a resume would only replay it", async () => {
    const { url } = await setup(failing)
    const events = await readSse(await fetch(url('/streams'), { method: 'POST' })).rest()
    expect(events.map((e) => e.event)).toEqual(['delta', 'error'])
    expect(JSON.parse(events[1]?.data ?? '{}')).toEqual({
      code: 'upstream-failed',
      message: 'The model failed.',
      retryable: false,
    })
  })

  it('replays the logged error, never a done, to a resume after it', async () => {
    const { url } = await setup(failing)
    const first = await fetch(url('/streams'), { method: 'POST' })
    const live = await readSse(first).rest()
    const error = live.at(-1)
    const resumed = await fetch(url(location(first)), {
      headers: { 'Last-Event-ID': error?.id ?? '' },
    })
    expect(await readSse(resumed).rest()).toEqual([error])
  })

  it('replays the logged error to a resume from before it', async () => {
    const { url } = await setup(failing)
    const first = await fetch(url('/streams'), { method: 'POST' })
    const live = await readSse(first).rest()
    const resumed = await fetch(url(location(first)), {
      headers: { 'Last-Event-ID': live[0]?.id ?? '' },
    })
    expect(await readSse(resumed).rest()).toEqual(live.slice(1))
  })

  it("replays a finished stream's own done, with its data, to a resume after it", async () => {
    const { url } = await setup(async (stream) => {
      await stream.send({ event: 'done', data: '{"finishReason":"stop"}' })
    })
    const first = await fetch(url('/streams'), { method: 'POST' })
    const [done] = await readSse(first).rest()
    const resumed = await fetch(url(location(first)), {
      headers: { 'Last-Event-ID': done?.id ?? '' },
    })
    expect(await readSse(resumed).rest()).toEqual([done])
  })
})

describe('the replay boundary (Unbroken-Replay-Through)', () => {
  it('names the last event logged when a resume attached', async () => {
    const driven = drivenProducer()
    const { url } = await setup(driven.producer)
    const first = await fetch(url('/streams'), { method: 'POST' })
    driven.push('a', 'b', 'c')
    const seen = await readSse(first).take(3)
    const resumed = await fetch(url(location(first)), {
      headers: { 'Last-Event-ID': seen[0]?.id ?? '' },
    })
    expect(resumed.headers.get('unbroken-replay-through')).toBe(seen[2]?.id)
    await resumed.body?.cancel()
  })

  it('is absent when nothing is logged after the cursor, and on a POST', async () => {
    const driven = drivenProducer()
    const { url } = await setup(driven.producer)
    const first = await fetch(url('/streams'), { method: 'POST' })
    expect(first.headers.has('unbroken-replay-through')).toBe(false)
    driven.push('a')
    const [a] = await readSse(first).take(1)
    const resumed = await fetch(url(location(first)), { headers: { 'Last-Event-ID': a?.id ?? '' } })
    expect(resumed.headers.has('unbroken-replay-through')).toBe(false)
    await resumed.body?.cancel()
  })
})
