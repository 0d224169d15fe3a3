import type { UnbrokenClientError } from '@unbroken/client'
import { useRef, useState } from 'react'
import { createLLMState, type LLMState, reduceLLMEvent } from './llm'
import type { EventStreamRequest, EventStreamView, UseEventStreamOptions } from './types'
import { useStreamSession } from './use-event-stream'

/**
 * `waiting`: sent, no token yet (a long prefill shows as "thinking", also after a re-attach);
 * `stopped`: ended by `stop()`; `error`: failed for good (see `error`).
 */
export type LLMStatus =
  | 'idle'
  | 'waiting'
  | 'streaming'
  | 'reconnecting'
  | 'done'
  | 'stopped'
  | 'error'

/** Measured by this page while the stream ran. */
export interface LLMMetrics {
  /** Milliseconds from `send` to the first `delta`. */
  readonly timeToFirstToken: number | undefined
  /** `delta` events per second after the first one. */
  readonly tokensPerSecond: number | undefined
  /** Connections after the first one, as the client counts them. */
  readonly reconnects: number
  /** Events the server replayed from its log on resumes (re-attaches included), not live. */
  readonly replayed: number
}

/** Options of `useLLMStream`: `api` plus the `useEventStream` options it does not set itself. */
export interface LLMStreamOptions
  extends Omit<UseEventStreamOptions<LLMState>, 'reducer' | 'initialState' | 'isDone'> {
  /** Where `send` POSTs: the proxy's `/v1/streams`, or your route in front of it. */
  readonly api: string | URL
}

/** What `useLLMStream` returns: the folded answer, its status and metrics, and the controls. */
export interface LLMStream extends LLMState {
  readonly status: LLMStatus
  readonly error: UnbrokenClientError | undefined
  readonly metrics: LLMMetrics
  /** POSTs `body` as JSON to `api`. A stream still running is stopped first (as `stop()`). */
  send(body: unknown): void
  /** Sends the authorised `DELETE`: the generation ends upstream and `status` becomes `stopped`. */
  stop(): Promise<void>
  /** After `error`: re-attaches where the stream can resume, else sends the same body again. */
  retry(): void
  /** Back to `idle` with no text; a stream still running is stopped first. */
  reset(): void
}

const statusOf = ({ status, state, closeReason }: EventStreamView<LLMState>): LLMStatus =>
  status === 'idle'
    ? 'idle'
    : state.finishReason === 'cancelled'
      ? 'stopped'
      : closeReason === 'done'
        ? 'done'
        : status === 'closed'
          ? 'error'
          : status === 'reconnecting'
            ? 'reconnecting'
            : state.tokens
              ? 'streaming'
              : 'waiting'

const reducer: UseEventStreamOptions<LLMState>['reducer'] = (state, event) =>
  reduceLLMEvent(state, event, Date.now())
const initialState = () => createLLMState(Date.now())

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
    reducer,
    initialState,
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
  const { state } = view
  const span = (state.lastTokenAt ?? 0) - (state.firstTokenAt ?? 0)
  return {
    ...state,
    status: statusOf(view),
    error: view.error,
    metrics: {
      timeToFirstToken: state.firstTokenAt && state.firstTokenAt - state.sentAt,
      tokensPerSecond: span > 0 ? ((state.tokens - 1) * 1000) / span : undefined,
      reconnects: view.reconnects,
      replayed: view.replayed,
    },
    ...controls,
  }
}
