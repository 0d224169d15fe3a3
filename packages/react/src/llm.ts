import type { ServerSentEvent } from '@unbroken/client'

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

export const createLLMState = (sentAt: number): LLMState => ({
  text: '',
  reasoning: '',
  toolCalls: [],
  tokens: 0,
  sentAt,
})

/** Folds one protocol v1 event (DESIGN §4) into the state; `error` ends the stream in the client. */
export function reduceLLMEvent(
  state: LLMState,
  { type, data }: ServerSentEvent,
  now: number,
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
