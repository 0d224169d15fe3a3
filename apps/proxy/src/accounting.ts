// One accounting record per stream: what it cost, how it ended, how it felt. A stream that did not
// reach its upstream's end marker is `incomplete`, whatever stopped it; usage the upstream never
// reported is estimated from what was streamed, and marked so.
import type { UpstreamKind } from './config'
import { createTokenEstimate, estimateInputTokens } from './estimate'
import type { ProxyMetrics } from './metrics'
import type { GenerationRequest } from './request'
import type { FinishReason, UpstreamChunk, UpstreamEvent } from './upstreams/upstream'

/** How a generation ended. */
export type StreamEnd = 'finished' | 'failed' | 'cancelled' | 'shutdown'

/** What a finished generation leaves behind: logged once, counted in the metrics. */
export interface StreamRecord {
  readonly streamId: string
  /** The token subject that owns the stream; absent in open mode. */
  readonly subject: string | undefined
  readonly upstream: UpstreamKind
  readonly model: string
  /** `complete` only when the upstream's end marker was seen and logged. */
  readonly status: 'complete' | 'incomplete'
  readonly end: StreamEnd
  readonly finishReason: FinishReason | undefined
  readonly error: { readonly code: string; readonly message: string } | undefined
  readonly usage: {
    readonly inputTokens: number
    readonly outputTokens: number
    /** True when the upstream reported no usage and these are estimates. */
    readonly estimated: boolean
  }
  /** From the request to the first output, in whole ms; absent when none came. */
  readonly ttftMs: number | undefined
  /** Whole ms. */
  readonly durationMs: number
  /** Resumes of this stream seen by this process while it was generating. */
  readonly resumes: number
  /** Upstream chunks that carried output. */
  readonly chunks: number
  readonly toolCalls: number
  /** Log appends the output cost (the `meta` and terminal events included). */
  readonly appends: number
}

/** Collects one stream's facts as it runs. */
export interface StreamAccount {
  /** Notes one upstream chunk (output, usage, finish) and reports latency metrics. */
  observe(chunk: UpstreamChunk): void
  resumed(): void
  /** The usage so far: the upstream's, or an estimate marked `estimated`. */
  usage(): Extract<UpstreamEvent, { type: 'usage' }>
  /** Ends the account; call once. */
  close(ending: {
    readonly end: StreamEnd
    readonly error?: { readonly code: string; readonly message: string } | undefined
    readonly appends: number
  }): StreamRecord
}

/** What is known when a stream starts. */
export interface StreamStart {
  readonly streamId: string
  readonly subject: string | undefined
  readonly upstream: UpstreamKind
  readonly request: GenerationRequest
}

export function createStreamAccount(start: StreamStart, metrics: ProxyMetrics): StreamAccount {
  const startedAt = performance.now()
  const output = createTokenEstimate()
  let lastOutputAt: number | undefined
  let ttftMs: number | undefined
  let reported: { inputTokens: number; outputTokens: number } | undefined
  let finishReason: FinishReason | undefined
  let chunks = 0
  let toolCalls = 0
  let resumes = 0
  metrics.streamStarted()

  const usage = () =>
    reported
      ? { type: 'usage' as const, ...reported }
      : {
          type: 'usage' as const,
          inputTokens: estimateInputTokens(start.request.messages),
          outputTokens: output.tokens,
          estimated: true,
        }

  return {
    observe(chunk) {
      let carriedOutput = false
      for (const event of chunk) {
        switch (event.type) {
          case 'text':
          case 'reasoning':
            output.add(event.text)
            carriedOutput = true
            break
          case 'tool-call':
            output.add(event.arguments)
            toolCalls += 1
            carriedOutput = true
            break
          case 'usage':
            reported = { inputTokens: event.inputTokens, outputTokens: event.outputTokens }
            break
          case 'finish':
            finishReason = event.reason
            break
        }
      }
      if (!carriedOutput) return
      const now = performance.now()
      chunks += 1
      if (lastOutputAt === undefined) {
        ttftMs = now - startedAt
        metrics.firstToken(ttftMs / 1000)
      } else {
        metrics.tokenGap((now - lastOutputAt) / 1000)
      }
      lastOutputAt = now
    },
    resumed() {
      resumes += 1
    },
    usage,
    close(ending) {
      const { type: _, ...counts } = usage()
      const record: StreamRecord = {
        streamId: start.streamId,
        subject: start.subject,
        upstream: start.upstream,
        model: start.request.model,
        status: ending.end === 'finished' ? 'complete' : 'incomplete',
        end: ending.end,
        finishReason: ending.end === 'finished' ? finishReason : undefined,
        error: ending.error,
        usage: { ...counts, estimated: counts.estimated === true },
        ttftMs: ttftMs === undefined ? undefined : Math.round(ttftMs),
        durationMs: Math.round(performance.now() - startedAt),
        resumes,
        chunks,
        toolCalls,
        appends: ending.appends,
      }
      metrics.streamEnded(record)
      return record
    },
  }
}
