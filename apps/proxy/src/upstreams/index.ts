// Picks the upstream adapter the configuration names.
import { type Config, DEFAULT_UPSTREAM_URLS } from '../config'
import { createAnthropicUpstream } from './anthropic'
import { createOllamaUpstream } from './ollama'
import { createOpenAIUpstream } from './openai'
import { createSimulatedUpstream } from './simulated'
import type { Upstream } from './upstream'

// Used when neither `--model` nor the request names one; each is the vendor's small current model.
const DEFAULT_MODELS = {
  simulated: 'simulated',
  openai: 'gpt-4o-mini',
  anthropic: 'claude-haiku-4-5',
  ollama: 'llama3.2',
} as const

type UpstreamConfig = Pick<
  Config,
  'upstream' | 'upstreamBaseUrl' | 'upstreamKey' | 'model' | 'simTtft' | 'simRate'
>

export function createUpstream(config: UpstreamConfig): Upstream {
  const kind = config.upstream
  const defaultModel = config.model ?? DEFAULT_MODELS[kind]
  if (kind === 'simulated') {
    return createSimulatedUpstream({
      ttftMs: config.simTtft,
      tokensPerSecond: config.simRate,
      defaultModel,
    })
  }
  const options = {
    baseUrl: config.upstreamBaseUrl ?? DEFAULT_UPSTREAM_URLS[kind],
    apiKey: config.upstreamKey,
    defaultModel,
  }
  switch (kind) {
    case 'openai':
      return createOpenAIUpstream(options)
    case 'anthropic':
      return createAnthropicUpstream(options)
    case 'ollama':
      return createOllamaUpstream(options)
  }
}
