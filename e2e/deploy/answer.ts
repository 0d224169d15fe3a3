/**
 * What the simulated model says to a request, taken from the model itself (run in the test
 * process at full speed, with no proxy, log or network), so that what a client shows after
 * crossing nginx, two instances, Redis and faults is checked against the source, not against
 * another copy of what came through the same path.
 */
import { createSimulatedUpstream } from '../../apps/proxy/src/upstreams/simulated'

/** The native endpoint's request fields that decide the simulated answer. */
export interface AskBody {
  readonly messages: readonly { readonly role: 'user'; readonly content: string }[]
  readonly seed?: number | undefined
  readonly maxTokens?: number | undefined
}

const model = createSimulatedUpstream({ ttftMs: 0, tokensPerSecond: 1_000_000 })

/** The whole answer text (reasoning and tool calls are not asked for here). */
export async function simulatedAnswer(body: AskBody): Promise<string> {
  let text = ''
  const call = { signal: new AbortController().signal }
  for await (const chunk of model.stream({ model: model.defaultModel, ...body }, call)) {
    for (const event of chunk) if (event.type === 'text') text += event.text
  }
  return text
}
