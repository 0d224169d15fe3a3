// The `@unbroken/client/store` entry: the framework-neutral session store that UI bindings
// (`@unbroken/react`) subscribe to, and the protocol v1 answer it folds. Apart from the reader's
// entry, so that code which only reads streams does not carry it.
export type { LLMMetrics, LLMState, LLMStatus, LLMToolCall, LLMUsage, LLMView } from './llm'
export { createLLMState, deriveLLMView, reduceLLMEvent } from './llm'
export type { StreamRequestKey, StreamSession } from './session'
export { createStreamSession, requestKeyOf } from './session'
export type {
  EventStreamRequest,
  StreamSessionOptions,
  StreamSessionStatus,
  StreamSessionView,
} from './session-types'
