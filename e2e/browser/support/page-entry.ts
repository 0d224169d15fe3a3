/**
 * What the test page exposes on `window.unbroken`: our client bundled from source, a peer client,
 * and small readers that turn a whole stream into plain data `page.evaluate` can return.
 */
import { fetchEventSource } from '@microsoft/fetch-event-source'
import { createEventStream } from '@unbroken/client'
import type { ComparableEvent } from '../../support/compare'

export type ReadOptions = {
  method?: 'GET' | 'POST'
  /** Authenticate with a token that expires after this many ms; refresh it on demand. */
  tokenTtlMs?: number
  /** Abort through the signal once this many events have arrived. */
  abortAfter?: number
}

export type ReadResult = {
  events: ComparableEvent[]
  status: string
  closeReason: string | undefined
  reconnects: number
  url: string
  /** `code` of the error the iterator threw, if any. */
  error: string | undefined
  refreshes: string[]
  /** Events the client had taken off the network (the store's count): at the abort, and in the end. */
  dispatchedAtAbort: number | undefined
  dispatched: number
}

/** Events received so far by the latest read, so a test can act mid-stream. */
let received: ComparableEvent[] = []

async function issueToken(ttlMs: number): Promise<string> {
  const response = await fetch(`/token?ttlMs=${ttlMs}`, { method: 'POST' })
  return ((await response.json()) as { token: string }).token
}

/** Reads `url` with our client to its end, with an immediate retry and optional auth and abort. */
async function read(url: string, options: ReadOptions = {}): Promise<ReadResult> {
  const events: ComparableEvent[] = []
  received = events
  const refreshes: string[] = []
  const controller = new AbortController()
  let token = options.tokenTtlMs === undefined ? undefined : await issueToken(options.tokenTtlMs)
  const stream = createEventStream(url, {
    method: options.method ?? 'GET',
    signal: controller.signal,
    backoff: { initialMs: 0 },
    headers: (): Record<string, string> => (token ? { authorization: `Bearer ${token}` } : {}),
    onAuthRequired: async ({ reason }) => {
      refreshes.push(reason)
      token = await issueToken(600_000)
    },
  })
  let error: string | undefined
  let dispatchedAtAbort: number | undefined
  try {
    for await (const event of stream) {
      events.push({ type: event.type, id: event.lastEventId, data: event.data })
      if (events.length === options.abortAfter) {
        dispatchedAtAbort = stream.getSnapshot().events
        controller.abort()
      }
    }
  } catch (thrown) {
    error = (thrown as { code?: string }).code ?? String(thrown)
  }
  const snapshot = stream.getSnapshot()
  return {
    events,
    status: snapshot.status,
    closeReason: snapshot.closeReason,
    reconnects: snapshot.reconnects,
    url: snapshot.url,
    error,
    refreshes,
    dispatchedAtAbort,
    dispatched: snapshot.events,
  }
}

/** Reads `url` with the browser's own EventSource, which resumes with its own `Last-Event-ID`, until `done`. */
function readNative(url: string, types: string[]): Promise<ComparableEvent[]> {
  const events: ComparableEvent[] = []
  received = events
  return new Promise((resolve) => {
    const source = new EventSource(url)
    for (const type of types) {
      source.addEventListener(type, (event) => {
        const { lastEventId, data } = event as MessageEvent<string>
        events.push({ type, id: lastEventId, data })
        if (type !== 'done') return
        source.close()
        resolve(events)
      })
    }
  })
}

/** Reads `url` with `@microsoft/fetch-event-source` until `done`; it reports each block's own id. */
async function readFetchEventSource(url: string): Promise<ComparableEvent[]> {
  const events: ComparableEvent[] = []
  received = events
  const controller = new AbortController()
  await fetchEventSource(url, {
    signal: controller.signal,
    openWhenHidden: true,
    onmessage({ event, id, data }) {
      events.push({ type: event || 'message', id, data })
      if (event === 'done') controller.abort()
    },
    onerror(error) {
      throw error
    },
  })
  return events
}

const api = {
  read,
  readNative,
  readFetchEventSource,
  get received(): readonly ComparableEvent[] {
    return received
  },
}
export type PageApi = typeof api
;(globalThis as unknown as { unbroken: PageApi }).unbroken = api
