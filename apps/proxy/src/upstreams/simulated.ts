// The built-in model: offline, seeded and paced like a real one, with faults on request. The
// answer is a function of the messages and `seed`; only its timing jitters (also seeded).
import { setTimeout as sleep } from 'node:timers/promises'
import { ProxyError } from '../errors'
import { estimateInputTokens } from '../estimate'
import type { GenerationRequest } from '../request'
import type { Faults } from './faults'
import {
  composeAnswer,
  composeArguments,
  composeReasoning,
  createRandom,
  type Random,
  requestedTool,
  seedOf,
  tokenize,
} from './simulated-text'
import type { FinishReason, Upstream, UpstreamChunk, UpstreamEvent } from './upstream'

/** Pace of the simulated model. */
export interface SimulatedOptions {
  /** Time to first token (prefill), in ms; each request jitters it by ±20%. */
  readonly ttftMs: number
  /** Tokens per second once streaming. */
  readonly tokensPerSecond: number
  /** The model name reported when a request names none. */
  readonly defaultModel?: string | undefined
}

type Piece = { readonly type: 'text' | 'reasoning'; readonly text: string }

export function createSimulatedUpstream(options: SimulatedOptions): Upstream {
  return {
    kind: 'simulated',
    defaultModel: options.defaultModel ?? 'simulated',
    stream: (request, call) => {
      // Nothing can refuse the built-in model: its faults all happen in the stream.
      call.onOpen?.()
      return simulate(request, options, call.faults ?? {}, call.signal)
    },
  }
}

async function* simulate(
  request: GenerationRequest,
  options: SimulatedOptions,
  faults: Faults,
  signal: AbortSignal,
): AsyncGenerator<UpstreamChunk> {
  const random = createRandom(seedOf(request))
  const { pieces, ending } = plan(random, request)
  const ttftMs = faults.slowStart ?? options.ttftMs * (0.8 + 0.4 * random())
  const dueAt = schedule(random, pieces.length, performance.now() + ttftMs, options)
  const faultAt = (count: number) =>
    count === faults.cutAfter || count === faults.errorAfter || count === faults.stallAfter
  let sent = 0
  for (;;) {
    if (sent === faults.cutAfter) return
    if (sent === faults.errorAfter) throw simulatedError(sent)
    if (sent === faults.stallAfter) await stall(signal)
    if (sent === pieces.length) break
    const wait = (dueAt[sent] as number) - performance.now()
    if (wait > 0) await sleep(wait, undefined, { signal })
    // Every token already due goes out in one chunk, as a fast upstream's tokens arrive together
    // in one network read.
    const chunk: Piece[] = []
    do {
      chunk.push(pieces[sent] as Piece)
      sent += 1
    } while (sent < pieces.length && (dueAt[sent] as number) <= performance.now() && !faultAt(sent))
    yield chunk
  }
  yield ending
}

/** When each token is due: after the prefill, one every `1 / tokensPerSecond` s, ±30%. */
function schedule(random: Random, count: number, firstAt: number, options: SimulatedOptions) {
  const intervalMs = 1000 / options.tokensPerSecond
  const dueAt: number[] = []
  let at = firstAt
  for (let i = 0; i < count; i++) {
    dueAt.push(at)
    at += intervalMs * (0.7 + 0.6 * random())
  }
  return dueAt
}

/** Everything the model will say, decided up front from the seed. */
function plan(random: Random, request: GenerationRequest) {
  const reasoning = request.reasoning ? tokenize(composeReasoning(random)) : []
  const tool = requestedTool(request)
  const answer = tokenize(
    tool ? `I'll use the \`${tool.name}\` tool for that.` : composeAnswer(random, request.messages),
  )
  const limit = request.maxTokens ?? Number.POSITIVE_INFINITY
  const all: Piece[] = [
    ...reasoning.map((text) => ({ type: 'reasoning' as const, text })),
    ...answer.map((text) => ({ type: 'text' as const, text })),
  ]
  const pieces = all.slice(0, limit)
  const cut = pieces.length < all.length
  const finish: FinishReason = cut ? 'length' : tool ? 'tool-calls' : 'stop'
  const ending: UpstreamEvent[] = []
  if (tool && !cut) {
    ending.push({
      type: 'tool-call',
      id: `call_${Math.floor(random() * 2 ** 32).toString(36)}`,
      name: tool.name,
      arguments: composeArguments(random, tool),
    })
  }
  ending.push(
    {
      type: 'usage',
      inputTokens: estimateInputTokens(request.messages),
      outputTokens: pieces.length,
    },
    { type: 'finish', reason: finish },
  )
  return { pieces, ending }
}

function simulatedError(sent: number): ProxyError {
  return new ProxyError(
    'upstream-error',
    `The simulated upstream failed after ${sent} tokens (x-unbroken-fault: error-after=${sent}).`,
    { retryable: true },
  )
}

/** Silent until aborted, like an upstream that stopped sending without closing. */
function stall(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    signal.throwIfAborted()
    signal.addEventListener('abort', () => reject(signal.reason), { once: true })
  })
}
