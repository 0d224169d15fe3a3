// The producer of a resumable stream: runs one generation and writes its output to the event log
// in a given format. It belongs to the stream, not to a connection: only a cancel (`DELETE`), a
// limit or shutdown stops it, and it never waits for a client, only for the log.
import type { Producer, ProducerStream } from '@unbroken/server'
import { createStreamAccount, type StreamAccount, type StreamEnd } from './accounting'
import { createAppender } from './appender'
import { ProxyError } from './errors'
import { mergeOutput, type OutputEvent, type StreamFormat } from './formats/format'
import { type GenerationLimits, generate } from './generation'
import type { Logger } from './logger'
import type { ProxyMetrics } from './metrics'
import type { GenerationRequest } from './request'
import type { Faults } from './upstreams/faults'
import type { Upstream, UpstreamChunk } from './upstreams/upstream'

/** One stream to produce. */
export interface StreamJob {
  readonly request: GenerationRequest
  readonly format: StreamFormat
  readonly subject: string | undefined
  readonly faults?: Faults | undefined
}

/** Makes producers and keeps track of the ones running in this process. */
export interface StreamProducers {
  /** The registry producer for one job. */
  create(job: StreamJob): Producer
  /** Counts a resume against a stream this process is generating (no-op for others). */
  resumed(streamId: string): void
  /** Producers running now. */
  readonly running: number
  /** Resolves when every producer running now has ended. */
  settled(): Promise<void>
}

export interface ProducerDeps {
  readonly upstream: Upstream
  readonly limits: GenerationLimits
  readonly metrics: ProxyMetrics
  readonly logger: Logger
}

export function createStreamProducers(deps: ProducerDeps): StreamProducers {
  const accounts = new Map<string, StreamAccount>()
  const running = new Set<Promise<void>>()

  const produce = async (stream: ProducerStream, job: StreamJob) => {
    const { upstream, logger } = deps
    const { request, format } = job
    const account = createStreamAccount(
      { streamId: stream.id, subject: job.subject, upstream: upstream.kind, request },
      deps.metrics,
    )
    accounts.set(stream.id, account)
    logger.info(
      { streamId: stream.id, subject: job.subject, upstream: upstream.kind, model: request.model },
      'stream started',
    )
    let appends = 0
    // A log that refuses appends (Redis down) makes the rest pointless: stop the upstream too.
    const logFailed = new AbortController()
    const appender = createAppender<OutputEvent>({
      merge: mergeOutput,
      async write(batch) {
        for (const input of format.render(batch)) {
          appends += 1
          await stream.send(input)
        }
      },
      onFailure: (error) => logFailed.abort(error),
    })
    const start: OutputEvent = {
      type: 'start',
      streamId: stream.id,
      model: request.model,
      upstream: upstream.kind,
    }
    appender.push([start])

    let end: StreamEnd = 'finished'
    let failure: { code: string; message: string } | undefined
    try {
      const signal = AbortSignal.any([stream.signal, logFailed.signal])
      const call = { signal, faults: job.faults }
      for await (const chunk of generate(upstream, request, call, deps.limits)) {
        account.observe(chunk)
        appender.push(withUsage(chunk, account))
      }
      await appender.flush()
    } catch (caught) {
      if (stream.signal.aborted) {
        // A cancel or shutdown: the registry has already written the stream's terminal event.
        end = stream.signal.reason === 'cancelled' ? 'cancelled' : 'shutdown'
        return
      }
      end = 'failed'
      if (!(caught instanceof ProxyError)) {
        // A bug, not an upstream failure: the registry masks it as `internal-error` and reports it.
        failure = { code: 'internal-error', message: String(caught) }
        throw caught
      }
      failure = { code: caught.code, message: caught.message }
      await appender.flush().catch(() => {})
      appends += 1
      await stream.send(format.fail(caught))
    } finally {
      accounts.delete(stream.id)
      const record = account.close({ end, error: failure, appends })
      logger.info(record, 'stream ended')
    }
  }

  return {
    create: (job) => (stream) => {
      const run = produce(stream, job)
      const tracked = run.catch(() => {}).finally(() => running.delete(tracked))
      running.add(tracked)
      return run
    },
    resumed: (streamId) => accounts.get(streamId)?.resumed(),
    get running() {
      return running.size
    },
    settled: async () => {
      await Promise.all(running)
    },
  }
}

/** The chunk, with estimated usage put before a `finish` the upstream sent without usage. */
function withUsage(chunk: UpstreamChunk, account: StreamAccount): UpstreamChunk {
  const last = chunk[chunk.length - 1]
  if (last?.type !== 'finish') return chunk
  // `observe` has seen this chunk, so a usage event in it already counts as reported. Asked only
  // at the finish: an estimate walks the whole prompt (measured 3% of the CPU when asked per chunk).
  const usage = account.usage()
  if (!usage.estimated) return chunk
  return [...chunk.slice(0, -1), usage, last]
}
