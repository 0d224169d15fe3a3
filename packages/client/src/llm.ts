import type { UnbrokenClientError } from './errors'
import type { ServerSentEvent } from './parser'
import type { StreamSessionView } from './session-types'

/** A complete tool call of protocol v1 (`tool-call`): `arguments` is a JSON string. */
export interface LLMToolCall {
  readonly id: string
  readonly name: string
  readonly arguments: string
}

/** Protocol v1 `usage`. */
export interface LLMUsage {
  readonly inputTokens: number
  readonly outputTokens: number
}

/** What `useLLMStream` folds the protocol v1 events into: JSON, so that a reload restores it. */
export interface LLMState {
  readonly text: string
  readonly reasoning: string
  readonly toolCalls: readonly LLMToolCall[]
  readonly usage?: LLMUsage
  /** `done`'s `finishReason`, or `cancelled` once a `stop()` ended the stream. */
  readonly finishReason?: string
  /** `delta` events received. */
  readonly tokens: number
  /** Epoch ms of `send`, of the first `delta` and of the latest one. */
  readonly sentAt: number
  readonly firstTokenAt?: number
  readonly lastTokenAt?: number
}

/** The state of an answer sent at `sentAt` (epoch ms, now by default), before any event. */
export const createLLMState = (sentAt = Date.now()): LLMState => ({
  text: '',
  reasoning: '',
  toolCalls: [],
  tokens: 0,
  sentAt,
})

/**
 * Folds one protocol v1 event (DESIGN §4) into the state, received at `now` (epoch ms, now by
 * default); `error` ends the stream in the client.
 */
export function reduceLLMEvent(
  state: LLMState,
  { type, data }: ServerSentEvent,
  now = Date.now(),
): LLMState {
  // Events with nothing to show (`meta`, a server's own types) pass unread.
  switch (type) {
    case 'delta': {
      const delta = JSON.parse(data)
      return {
        ...state,
        text: state.text + (delta.text ?? ''),
        reasoning: state.reasoning + (delta.reasoning ?? ''),
        tokens: state.tokens + 1,
        firstTokenAt: state.firstTokenAt ?? now,
        lastTokenAt: now,
      }
    }
    case 'tool-call':
      return { ...state, toolCalls: [...state.toolCalls, JSON.parse(data)] }
    case 'usage':
      return { ...state, usage: JSON.parse(data) }
    case 'done': {
      const done = JSON.parse(data || '{}')
      return { ...state, finishReason: done.finishReason ?? done.reason }
    }
    default:
      return state
  }
}

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

/** What a UI shows of an answer: the folded state, a status, the error if it failed, metrics. */
export interface LLMView extends LLMState {
  readonly status: LLMStatus
  readonly error: UnbrokenClientError | undefined
  readonly metrics: LLMMetrics
}

const statusOf = ({ status, state, closeReason }: StreamSessionView<LLMState>): LLMStatus =>
  status === 'idle'
    ? 'idle'
    : // A stop whose `done` never came (the stream failed first) closes as `aborted`.
      state.finishReason === 'cancelled' || closeReason === 'aborted'
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

/** Derives the UI's view of an answer from a session's view: its status and metrics. */
export function deriveLLMView(view: StreamSessionView<LLMState>): LLMView {
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
  }
}
