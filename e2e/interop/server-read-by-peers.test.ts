import { EventSource } from 'eventsource'
import { createParser } from 'eventsource-parser'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { assertSameEvents, type ComparableEvent } from '../support/compare'
import { CANONICAL_EVENTS } from '../support/events'
import { type OurServer, startOurServer } from './our-server'

const TYPES = [...new Set(CANONICAL_EVENTS.map((e) => e.type))]
const TIMEOUT_MS = 10_000

/** Reads with the `eventsource` package until `done`, listening for every type we send. */
function readWithEventSource(url: string): Promise<ComparableEvent[]> {
  return new Promise((resolve, reject) => {
    const events: ComparableEvent[] = []
    const source = new EventSource(url)
    const timer = setTimeout(() => {
      source.close()
      reject(new Error(`eventsource: no done after ${TIMEOUT_MS} ms, got ${events.length} events`))
    }, TIMEOUT_MS)
    for (const type of TYPES) {
      source.addEventListener(type, (event) => {
        events.push({ type: event.type, id: event.lastEventId, data: event.data })
        if (type !== 'done') return
        clearTimeout(timer)
        source.close()
        resolve(events)
      })
    }
  })
}

/** Feeds the raw body to `eventsource-parser`; every event we send carries its id. */
async function readWithEventSourceParser(url: string): Promise<ComparableEvent[]> {
  const events: ComparableEvent[] = []
  const parser = createParser({
    onEvent: ({ event, id, data }) => events.push({ type: event ?? 'message', id: id ?? '', data }),
  })
  const response = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) })
  const reader = response.body?.pipeThrough(new TextDecoderStream()).getReader()
  for (let read = await reader?.read(); read && !read.done; read = await reader?.read()) {
    parser.feed(read.value)
  }
  return events
}

// @microsoft/fetch-event-source needs `window` and `document`: it is tested in Chromium
// (browser/server-in-browser.spec.ts).
describe('our server read by peer clients', () => {
  let server: OurServer

  beforeAll(async () => {
    server = await startOurServer({ retryMs: 1 })
  })
  afterAll(() => server.close())

  it('is read identically by the eventsource package', async () => {
    assertSameEvents(
      { scenario: 'eventsource reading our server' },
      CANONICAL_EVENTS,
      await readWithEventSource(server.url),
    )
  })

  it('is read identically by eventsource-parser', async () => {
    assertSameEvents(
      { scenario: 'eventsource-parser reading our server' },
      CANONICAL_EVENTS,
      await readWithEventSourceParser(server.url),
    )
  })

  it('is resumed by the eventsource package with its own Last-Event-ID after a drop', async () => {
    const before = server.lastEventIds.length
    const events = await readWithEventSource(`${server.url}?drop=4`)
    assertSameEvents({ scenario: 'eventsource resuming our server' }, CANONICAL_EVENTS, events)
    expect(server.lastEventIds.slice(before)).toEqual([undefined, '4'])
  })
})
