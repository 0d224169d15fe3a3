// The producer of a resumable stream: runs one generation and writes its output to the event log
// in a given format. It belongs to the stream, not to a connection: only a cancel (`DELETE`), a
// limit or shutdown stops it, and it never waits for a client, only for the log.
import { createStreamId, type Producer, type ProducerStream } from '@unbroken/server'
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

/**
 * A generation whose upstream has accepted the request, before any stream exists: the SDK-format
 * endpoints open it first, so that an upstream 401, 429 or 5xx is answered with that status.
 */
export interface OpenedGeneration {
  /** The registry producer that writes the generation into its stream. */
  readonly producer: Producer
  /** Stops the upstream when no stream took the producer (refused, or the client left); else a no-op. */
  abandon(): void
}

/** Makes producers and keeps track of the ones running in this process. */
export interface StreamProducers {
  /** The registry producer for one job; the upstream is called once the stream exists. */
  create(job: StreamJob): Producer
  /**
   * Calls the upstream now and resolves once it accepted, or rejects with its `ProxyError`; but
   * resolves anyway after one keepalive interval without its answer head (a long prefill, a cold
   * model load), so that the answer can begin and keepalives flow: a refusal after that becomes
   * the stream's error.
   */
  open(job: StreamJob): Promise<OpenedGeneration>
  /**
   * Runs one generation outside any stream (a non-streaming request), with the same accounting:
   * `id` names it in the logs. Usage the upstream did not report is estimated before `finish`.
   */
  generate(
    job: Omit<StreamJob, 'format'>,
    signal: AbortSignal,
  ): { readonly id: string; readonly chunks: AsyncIterable<UpstreamChunk> }
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
  /** Silence after which a format's `keepalive` event is logged. */
  readonly keepaliveMs: number
}

/** An upstream call under way: its chunks, and the stop that ends it. */
interface Generation {
  readonly chunks: AsyncIterable<UpstreamChunk>
  readonly stop: AbortController
}

export function createStreamProducers(deps: ProducerDeps): StreamProducers {
  const accounts = new Map<string, StreamAccount>()
  const running = new Set<Promise<void>>()

  const startGeneration = (job: Omit<StreamJob, 'format'>, onOpen?: () => void): Generation => {
    const stop = new AbortController()
    const call = { signal: stop.signal, faults: job.faults, onOpen }
    return { chunks: generate(deps.upstream, job.request, call, deps.limits), stop }
  }

  const produce = async (stream: ProducerStream, job: StreamJob, generation: Generation) => {
    const { upstream, logger } = deps
    const { request, format } = job
    const account = createStreamAccount(
      { streamId: stream.id, subject: job.subject, upstream: upstream.kind, request },
      deps.metrics,
    )
    accounts.set(stream.id, account)
    let appends = 0
    // A cancel or shutdown stops the upstream; so does a log that refuses appends (Redis down),
    // which makes the rest pointless, and a bug.
    const stopWith = (reason: unknown) => generation.stop.abort(reason)
    if (stream.signal.aborted) stopWith(stream.signal.reason)
    stream.signal.addEventListener('abort', () => stopWith(stream.signal.reason), { once: true })
    const appender = createAppender<OutputEvent>({
      merge: mergeOutput,
      async write(batch) {
        for (const input of format.render(batch)) {
          appends += 1
          await stream.send(input)
        }
      },
      onFailure: stopWith,
    })
    const { keepalive } = format
    let silence: ReturnType<typeof setInterval> | undefined
    let end: StreamEnd = 'finished'
    let failure: { code: string; message: string } | undefined
    // Everything from here is inside the `try`: whatever throws, the upstream (already called by
    // `open`) is stopped and the account closed, not left to the idle timeout.
    try {
      logger.info(
        {
          streamId: stream.id,
          subject: job.subject,
          upstream: upstream.kind,
          model: request.model,
        },
        'stream started',
      )
      const start: OutputEvent = {
        type: 'start',
        streamId: stream.id,
        model: request.model,
        upstream: upstream.kind,
      }
      appender.push([start])
      // Refreshed by every chunk, so it fires only while the upstream is silent (a prefill).
      if (keepalive)
        silence = setInterval(() => {
          appends += 1
          stream.send(keepalive).catch(() => {})
        }, deps.keepaliveMs)
      for await (const chunk of generation.chunks) {
        silence?.refresh()
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
        stopWith(caught)
        throw caught
      }
      failure = { code: caught.code, message: caught.message }
      await appender.flush().catch(() => {})
      appends += 1
      await stream.send(format.fail(caught))
    } finally {
      clearInterval(silence)
      accounts.delete(stream.id)
      const record = account.close({ end, error: failure, appends })
      logger.info(record, 'stream ended')
    }
  }

  const track = (run: Promise<void>) => {
    const tracked = run.catch(() => {}).finally(() => running.delete(tracked))
    running.add(tracked)
    return run
  }

  return {
    create: (job) => (stream) => track(produce(stream, job, startGeneration(job))),
    async open(job) {
      let opened!: () => void
      const accepted = new Promise<void>((resolve) => (opened = resolve))
      const generation = startGeneration(job, () => opened())
      const iterator = generation.chunks[Symbol.asyncIterator]()
      // Starts the upstream call; its first result is kept for the producer.
      const first = iterator.next()
      // Handled here too, in case no producer ever reads it.
      first.catch(() => {})
      let patience: ReturnType<typeof setTimeout> | undefined
      const waited = new Promise<void>((resolve) => {
        patience = setTimeout(resolve, deps.keepaliveMs)
      })
      await Promise.race([accepted, first, waited]).finally(() => clearTimeout(patience))
      let taken = false
      const chunks = continuing(first, iterator)
      return {
        producer: (stream) => {
          taken = true
          return track(produce(stream, job, { chunks, stop: generation.stop }))
        },
        abandon: () => {
          if (taken) return
          generation.stop.abort(new Error('No stream took this generation.'))
          // Runs the generation's cleanup (its timers) now, not when they fire.
          iterator.return?.().catch(() => {})
        },
      }
    },
    generate(job, signal) {
      const id = createStreamId()
      const generation = startGeneration(job)
      signal.addEventListener('abort', () => generation.stop.abort(signal.reason), { once: true })
      return { id, chunks: detached(id, job, generation) }
    },
    resumed: (streamId) => accounts.get(streamId)?.resumed(),
    get running() {
      return running.size
    },
    settled: async () => {
      await Promise.all(running)
    },
  }

  async function* detached(id: string, job: Omit<StreamJob, 'format'>, generation: Generation) {
    const { upstream, logger } = deps
    const { request } = job
    const account = createStreamAccount(
      { streamId: id, subject: job.subject, upstream: upstream.kind, request },
      deps.metrics,
    )
    let end: StreamEnd = 'finished'
    let failure: { code: string; message: string } | undefined
    try {
      logger.info(
        { streamId: id, subject: job.subject, upstream: upstream.kind, model: request.model },
        'generation started',
      )
      for await (const chunk of generation.chunks) {
        account.observe(chunk)
        yield withUsage(chunk, account)
      }
    } catch (caught) {
      end = generation.stop.signal.aborted ? 'cancelled' : 'failed'
      const code = caught instanceof ProxyError ? caught.code : 'internal-error'
      failure = { code, message: String((caught as Error)?.message ?? caught) }
      throw caught
    } finally {
      const record = account.close({ end, error: failure, appends: 0 })
      logger.info(record, 'stream ended')
    }
  }
}

/**
 * `iterator` again, its first result already pulled: a plain iterator, not a generator around it,
 * which would cost a promise hop per chunk for the life of the stream.
 */
function continuing<T>(
  first: Promise<IteratorResult<T>>,
  iterator: AsyncIterator<T>,
): AsyncIterable<T> {
  let pulled: Promise<IteratorResult<T>> | undefined = first
  const next = () => {
    const result = pulled ?? iterator.next()
    pulled = undefined
    return result
  }
  // A consumer that leaves early (`break`, a throw in its loop) stops the generation's reading.
  const stop = async (): Promise<IteratorResult<T>> =>
    (await iterator.return?.()) ?? { done: true, value: undefined }
  return { [Symbol.asyncIterator]: () => ({ next, return: stop }) }
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
