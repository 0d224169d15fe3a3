import {
  createLLMState,
  deriveLLMView,
  type LLMState,
  type LLMView,
  reduceLLMEvent,
} from '@unbroken/client/store'
import { useRef, useState } from 'react'
import type { EventStreamRequest, UseEventStreamOptions } from './types'
import { useStreamSession } from './use-event-stream'

/** Options of `useLLMStream`: `api` plus the `useEventStream` options it does not set itself. */
export interface LLMStreamOptions
  extends Omit<UseEventStreamOptions<LLMState>, 'reducer' | 'initialState' | 'isDone'> {
  /** Where `send` POSTs: the proxy's `/v1/streams`, or your route in front of it. */
  readonly api: string | URL
}

/** What `useLLMStream` returns: the folded answer, its status and metrics, and the controls. */
export interface LLMStream extends LLMView {
  /** POSTs `body` as JSON to `api`. A stream still running is stopped first (as `stop()`). */
  send(body: unknown): void
  /** Sends the authorised `DELETE`: the generation ends upstream and `status` becomes `stopped`. */
  stop(): Promise<void>
  /** After `error`: re-attaches where the stream can resume, else sends the same body again. */
  retry(): void
  /** Back to `idle` with no text; a stream still running is stopped first. */
  reset(): void
}

/**
 * An LLM answer streamed over protocol v1 (`POST api`, then `meta`, `delta`, `usage`, `done`):
 * the text, a status for the UI, metrics, and `send`/`stop`/`retry`/`reset`. Built on
 * `useEventStream`, so it renders once per frame and survives drops, reloads (with `id`) and
 * StrictMode with every token exactly once.
 */
export function useLLMStream(options: LLMStreamOptions): LLMStream {
  const [request, setRequest] = useState<EventStreamRequest | null>(null)
  const [view, session] = useStreamSession(request, {
    ...options,
    reducer: reduceLLMEvent,
    initialState: createLLMState,
    // The body is JSON; a caller's own Content-Type wins.
    async headers(context) {
      const given = options.headers
      const headers = new Headers(typeof given === 'function' ? await given(context) : given)
      if (!headers.has('content-type')) headers.set('content-type', 'application/json')
      return headers
    },
  })
  const api = useRef(options.api)
  api.current = options.api
  const [controls] = useState(() => ({
    send(body: unknown) {
      void session.stop()
      setRequest({ url: api.current, method: 'POST', body: JSON.stringify(body) })
    },
    stop: session.stop,
    retry: session.retry,
    reset() {
      session.reset()
      setRequest(null)
    },
  }))
  return { ...deriveLLMView(view), ...controls }
}
