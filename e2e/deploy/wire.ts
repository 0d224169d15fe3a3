/**
 * What Chromium's network stack received for the page's stream connections, read over the
 * DevTools protocol (`Network.streamResourceContent` makes `dataReceived` carry the bytes): each
 * connection's request, the instance nginx sent it to, and every event with the time its last
 * byte arrived at the browser. Independent of the app under test, so a test checks the wire
 * (what arrived, and when), not what the app says it got.
 */
import type { CDPSession, Page } from '@playwright/test'
import { createEventStreamParser } from '@unbroken/client'
import type { ComparableEvent } from '../support/compare'

/**
 * An event as it arrived, with the browser's monotonic receive time in ms. `logged`: it carried an
 * id of its own, so it is one of the stream's logged events; an event without one was made by the
 * connection that sent it (`auth-expired`, a drain's or a lost producer's `error`), or repeats
 * the resume's cursor (a duplicate the client drops, A2).
 */
export type ArrivedEvent = ComparableEvent & {
  readonly arrivedMs: number
  readonly logged: boolean
}

export interface WireConnection {
  readonly method: string
  readonly url: string
  /** The `Last-Event-ID` the request carried, for a resume. */
  readonly lastEventId: string | undefined
  status: number | undefined
  /** When the response head arrived, on the same clock as {@link ArrivedEvent.arrivedMs}. */
  respondedMs: number | undefined
  /** `host:port` of the instance that answered, from nginx's `X-Unbroken-Upstream`. */
  upstream: string | undefined
  /** The stream's id: from the URL of a GET, from the `Content-Location` of a POST's answer. */
  streamId: string | undefined
  readonly events: ArrivedEvent[]
  /** Whether the body ended (cleanly or not): `finished` or `failed`, else still open. */
  end: 'open' | 'finished' | 'failed'
}

export interface Wire {
  /** Every stream connection (`/v1/streams…`), in the order the page opened them. */
  readonly connections: readonly WireConnection[]
  /** Sets Chromium's emulated network: offline, or a latency and a throughput in bytes/s. */
  emulate(conditions: {
    offline: boolean
    latencyMs?: number
    bytesPerSecond?: number
  }): Promise<void>
}

const STREAMS = /\/v1\/streams(\/|$|\?)/

/** Starts recording the page's stream connections; call before the page asks anything. */
export async function recordWire(page: Page): Promise<Wire> {
  const session: CDPSession = await page.context().newCDPSession(page)
  const connections: WireConnection[] = []
  const byRequest = new Map<
    string,
    {
      connection: WireConnection
      write: (bytes: Buffer, at: number) => void
      /** Whether streaming was switched on; a response that ended first is read once finished. */
      streamed?: Promise<boolean>
    }
  >()

  session.on('Network.requestWillBeSent', ({ requestId, request }) => {
    if (!STREAMS.test(request.url) || request.method === 'OPTIONS') return
    const connection: WireConnection = {
      method: request.method,
      url: request.url,
      lastEventId: header(request.headers, 'last-event-id'),
      status: undefined,
      respondedMs: undefined,
      upstream: undefined,
      streamId: request.method === 'GET' ? lastSegment(request.url) : undefined,
      events: [],
      end: 'open',
    }
    connections.push(connection)
    let arrivedMs = 0
    // The last id the connection moved to: the server's cursor block (A1), then each event's.
    let position: string | undefined
    const parser = createEventStreamParser({
      onId: (id) => {
        position = id
      },
      onEvent: (event) => {
        const logged = event.lastEventId !== position
        position = event.lastEventId
        connection.events.push({
          type: event.type,
          id: event.lastEventId,
          data: event.data,
          arrivedMs,
          logged,
        })
      },
    })
    byRequest.set(requestId, {
      connection,
      write: (bytes, at) => {
        arrivedMs = at
        parser.write(bytes)
      },
    })
  })
  session.on('Network.responseReceived', ({ requestId, response, timestamp }) => {
    const entry = byRequest.get(requestId)
    if (!entry) return
    entry.connection.status = response.status
    entry.connection.respondedMs = timestamp * 1000
    entry.connection.upstream = header(response.headers, 'x-unbroken-upstream')
    const location = header(response.headers, 'content-location')
    if (location !== undefined) entry.connection.streamId = lastSegment(location)
    // Bytes that arrived before streaming was switched on come back buffered, all at once. A
    // response that ended first (a short replay) cannot be streamed: its body is read at its end.
    entry.streamed = session
      .send('Network.streamResourceContent', { requestId })
      .then(({ bufferedData }) => {
        entry.write(Buffer.from(bufferedData, 'base64'), timestamp * 1000)
        return true
      })
      .catch(() => false)
  })
  session.on('Network.dataReceived', ({ requestId, data, timestamp }) => {
    if (data) byRequest.get(requestId)?.write(Buffer.from(data, 'base64'), timestamp * 1000)
  })
  session.on('Network.loadingFinished', ({ requestId, timestamp }) => {
    const entry = byRequest.get(requestId)
    if (!entry) return
    entry.connection.end = 'finished'
    void entry.streamed?.then(async (streamed) => {
      if (streamed) return
      const { body, base64Encoded } = await session.send('Network.getResponseBody', { requestId })
      entry.write(Buffer.from(body, base64Encoded ? 'base64' : 'utf8'), timestamp * 1000)
    })
  })
  session.on('Network.loadingFailed', ({ requestId }) => {
    const entry = byRequest.get(requestId)
    if (entry) entry.connection.end = 'failed'
  })
  await session.send('Network.enable')

  return {
    connections,
    async emulate({ offline, latencyMs = 0, bytesPerSecond = -1 }) {
      await session.send('Network.emulateNetworkConditions', {
        offline,
        latency: latencyMs,
        downloadThroughput: bytesPerSecond,
        uploadThroughput: bytesPerSecond,
      })
    },
  }
}

function header(headers: Record<string, unknown>, name: string): string | undefined {
  const found = Object.entries(headers).find(([key]) => key.toLowerCase() === name)
  return found === undefined ? undefined : String(found[1])
}

const lastSegment = (url: string) => new URL(url, 'http://unused').pathname.split('/').pop()

/**
 * The events of stream `streamId` the page's client holds, as protocol v1 says it must: a POST,
 * or a GET without a cursor, starts from the beginning; a resume with `Last-Event-ID: X` continues
 * after X. A page reloaded mid-stream may re-attach from any cursor: what it holds afterwards is
 * what it held up to that cursor, then what the new connection sent.
 *
 * Given the stream's `log`, a cursor past the last event seen on the wire is filled from the log
 * when what was seen is the log's start: DevTools drops the last bytes a page received as it is
 * unloaded (CI: the reloaded page resumed after 0-6, the old page's capture ended at 0-5). The
 * page's answer is checked against the model's text separately, so a skipped event still fails.
 */
export function deliveredEvents(
  connections: readonly WireConnection[],
  streamId: string,
  log: readonly ComparableEvent[] = [],
): ComparableEvent[] {
  let held: ComparableEvent[] = []
  for (const connection of connections) {
    if (connection.streamId !== streamId) continue
    const cursor = connection.lastEventId
    held = cursor === undefined ? [] : heldThrough(held, cursor, log)
    for (const { type, id, data, logged } of connection.events) {
      if (logged) held.push({ type, id, data })
    }
  }
  return held
}

/** What a client held up to `cursor`: what was seen, or the log's start when the wire missed its tail. */
function heldThrough(
  held: ComparableEvent[],
  cursor: string,
  log: readonly ComparableEvent[],
): ComparableEvent[] {
  const seen = held.findIndex(({ id }) => id === cursor)
  if (seen !== -1) return held.slice(0, seen + 1)
  const inLog = log.findIndex(({ id }) => id === cursor)
  const seenIsLogStart = held.every(({ id }, i) => log[i]?.id === id)
  return inLog !== -1 && seenIsLogStart ? log.slice(0, inLog + 1) : []
}
