export type {
  LLMMetrics,
  LLMState,
  LLMStatus,
  LLMToolCall,
  LLMUsage,
} from '@unbroken/client/store'
export type {
  EventStreamControls,
  EventStreamHookStatus,
  EventStreamRequest,
  EventStreamView,
  UseEventStreamOptions,
} from './types'
export { useEventStream } from './use-event-stream'
export type { LLMStream, LLMStreamOptions } from './use-llm-stream'
export { useLLMStream } from './use-llm-stream'
