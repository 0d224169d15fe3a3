// The stream's connections, as the network carried them: each request, the cursor it resumed
// after, the ids it delivered, what the server replayed and how it ended. Read from the bytes the
// hook's `fetch` receives (our own SSE parser over a pass-through of the body), so the timeline
// shows the wire, not a guess. DEMO WORKAROUND: `useLLMStream` reports totals (`reconnects`,
// `replayed`), not per-connection id ranges; this observer adds them without touching the hook.
import { createEventStreamParser } from '@unbroken/client'
import { useSyncExternalStore } from 'react'
import { loadSession, saveSession } from './session'

/** How a connection ended, as seen at the network. */
export type ConnectionEnd =
  | 'open'
  /** The body failed: the socket was cut. */
  | 'dropped'
  /** The server ended it with this terminal event. */
  | 'done'
  | 'error'
  | 'auth-expired'
  /** The server closed it without a terminal event (e.g. shutting down). */
  | 'closed'
  /** The client let go: stop, a new question, or an idle timeout. */
  | 'aborted'
  /** The page was reloaded while it was open. */
  | 'reloaded'
  /** Refused with this HTTP status. */
  | `http-${number}`

export interface Connection {
  /** A key for lists. */
  readonly key: string
  readonly method: string
  /** The `Last-Event-ID` a resume sent; `undefined` for the POST that started the stream. */
  readonly after: string | undefined
  readonly firstId: string | undefined
  readonly lastId: string | undefined
  readonly events: number
  /** Events the server replayed from its log (up to `Unbroken-Replay-Through`). */
  readonly replayed: number
  /** Keepalive comments: the connection is alive while the model is silent. */
  readonly keepalives: number
  readonly end: ConnectionEnd
}

const TERMINAL = ['done', 'error', 'auth-expired'] as const

let connections: readonly Connection[] = loadSession<Connection[]>('connections', []).map(
  (connection) => (connection.end === 'open' ? { ...connection, end: 'reloaded' } : connection),
)
const listeners = new Set<() => void>()

/** Records how a connection ended, unless it had already ended (e.g. `done`, then the abort). */
function end(index: number, how: ConnectionEnd): void {
  if (connections[index]?.end === 'open') update(index, { end: how })
}

function update(index: number, change: Partial<Connection>): void {
  connections = connections.map((connection, at) =>
    at === index ? { ...connection, ...change } : connection,
  )
  for (const listener of listeners) listener()
}

// The log survives a reload, so the timeline shows the connections before it too.
addEventListener('pagehide', () => saveSession('connections', connections))

/** Forgets the previous stream's connections (a new question). */
export function clearConnections(): void {
  connections = []
  for (const listener of listeners) listener()
}

/** A `fetch` for the hook that logs each stream connection (its GETs and POSTs) as its bytes arrive. */
export const observedFetch: typeof fetch = async (input, init) => {
  // Stop's DELETE goes through the hook's fetch too, but it is a request, not a stream connection.
  if (init?.method === 'DELETE') return fetch(input, init)
  const index = connections.length
  connections = [
    ...connections,
    {
      key: crypto.randomUUID(),
      method: init?.method ?? 'GET',
      after: new Headers(init?.headers).get('last-event-id') ?? undefined,
      firstId: undefined,
      lastId: undefined,
      events: 0,
      replayed: 0,
      keepalives: 0,
      end: 'open',
    },
  ]
  for (const listener of listeners) listener()
  const response = await fetch(input, init).catch((error: unknown) => {
    end(index, init?.signal?.aborted ? 'aborted' : 'dropped')
    throw error
  })
  if (!response.ok || !response.body) {
    end(index, `http-${response.status}`)
    return response
  }
  const replayThrough = response.headers.get('unbroken-replay-through')
  let replaying = replayThrough !== null
  const parser = createEventStreamParser({
    onEvent(event) {
      const current = connections[index] as Connection
      update(index, {
        firstId: current.firstId ?? event.lastEventId,
        lastId: event.lastEventId,
        events: current.events + 1,
        replayed: current.replayed + (replaying ? 1 : 0),
      })
      const terminal = TERMINAL.find((type) => type === event.type)
      if (terminal) end(index, terminal)
      if (event.lastEventId === replayThrough) replaying = false
    },
    onComment: () =>
      update(index, { keepalives: (connections[index] as Connection).keepalives + 1 }),
  })
  const reader = response.body.getReader()
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const chunk = await reader.read()
        if (chunk.done) {
          end(index, 'closed')
          controller.close()
          return
        }
        parser.write(chunk.value)
        controller.enqueue(chunk.value)
      } catch (error) {
        end(index, init?.signal?.aborted ? 'aborted' : 'dropped')
        controller.error(error)
      }
    },
    cancel(reason) {
      end(index, 'aborted')
      return reader.cancel(reason)
    },
  })
  return new Response(body, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  })
}

/** The connections of the current stream, rendered through React's store API. */
export function useConnections(): readonly Connection[] {
  return useSyncExternalStore(
    (listener) => {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    () => connections,
  )
}
