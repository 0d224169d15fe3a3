export type { LLMState, LLMToolCall, LLMUsage } from './llm'
export type {
  EventStreamControls,
  EventStreamHookStatus,
  EventStreamRequest,
  EventStreamView,
  UseEventStreamOptions,
} from './types'
export { useEventStream } from './use-event-stream'
export type {
  LLMMetrics,
  LLMStatus,
  LLMStream,
  LLMStreamOptions,
} from './use-llm-stream'
export { useLLMStream } from './use-llm-stream'
