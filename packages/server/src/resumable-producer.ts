import { createErrorPayload, UnbrokenServerError } from './errors'
import { assertEventInput } from './format'
import type { EventInput, EventLog } from './log'

/** Why a producer's `signal` aborted; it is `signal.reason`. */
export type ProducerStopReason = 'cancelled' | 'shutting-down' | 'abandoned'

/** What a producer writes through: appends to the log, never waits for any client. */
export interface ProducerStream {
  /** The stream id, as in its URL. */
  readonly id: string
  /** Aborts on `DELETE`, `cancel()` from any instance, or shutdown; pass it to the upstream call. */
  readonly signal: AbortSignal
  /**
   * Appends one event and resolves to its id. `event: 'done'` or `'error'` ends the stream with
   * that event. Rejects with `stream-complete` once the stream has ended (e.g. after a cancel).
   */
  send(event: EventInput): Promise<string>
}

/** Generates a stream's events, detached from any connection. Returning ends it with `done`. */
export type Producer<R = unknown> = (stream: ProducerStream, request: R) => Promise<void> | void

/** How the runner ends streams and reports producer failures. */
export interface ProducerRunnerOptions {
  readonly log: EventLog
  /** Put a producer exception's own message in the `error` event. Default false (masked). */
  readonly exposeErrors?: boolean | undefined
  /** Sees every producer exception and every failure to write the terminal event. */
  readonly onError?: ((error: unknown, streamId: string) => void) | undefined
}

/** The producers running in this process, keyed by stream id. */
export interface ProducerRunner {
  readonly size: number
  /** Runs `producer` for a stream already created in the log; resolves once the stream ended. */
  run<R>(streamId: string, producer: Producer<R>, request: R): Promise<void>
  /** Stops a stream nobody reads (`abandonAfterMs`) with a final `producer-lost`. */
  abandon(streamId: string): void
  /** Ends every running stream with a final `producer-lost` error. */
  stopAll(): Promise<void>
  /** Whether this process runs the producer of `streamId` (or is writing its terminal event). */
  has(streamId: string): boolean
  /** Resolves once no producer runs in this process and every terminal event is logged. */
  idle(): Promise<void>
}

const TERMINAL: ReadonlySet<string | undefined> = new Set(['done', 'error'])
const CANCELLED: EventInput = { event: 'done', data: '{"reason":"cancelled"}' }
// Final, so not `shutting-down` (which means "reconnect elsewhere"): nobody will finish this stream.
const STOPPED = lost('The server stopped before this stream finished; start a new stream.')
const ABANDONED = lost(
  'Nobody read this stream for a while, so the server stopped it; start a new stream.',
)

function lost(message: string): EventInput {
  return {
    event: 'error',
    data: JSON.stringify({ code: 'producer-lost', message, retryable: false }),
  }
}

/**
 * A logged error is the stream's last word: a resume replays it, so it can never tell a client to
 * retry (a producer's own `retryable: true` would make every client resume into it again).
 */
function final(payload: object): object {
  const copy: Record<string, unknown> = { ...payload, retryable: false }
  delete copy.retryAfterMs
  return copy
}

/** A producer's own `error` event made final; data that is not a JSON object is kept as it is. */
function finalError(input: EventInput): EventInput {
  let payload: unknown
  try {
    payload = JSON.parse(input.data)
  } catch {
    return input
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return input
  return { event: 'error', data: JSON.stringify(final(payload)) }
}

/** Whether a logged event ends its stream (protocol v1 §5). */
export const isTerminalEvent = (event: string | undefined): boolean => TERMINAL.has(event)

/** Runs producers into the log and guarantees each stream exactly one terminal event. */
export function createProducerRunner(options: ProducerRunnerOptions): ProducerRunner {
  const { log, onError } = options
  const running = new Map<
    string,
    (event: EventInput, reason?: ProducerStopReason) => Promise<void>
  >()
  let idleWaiters: Array<() => void> = []
  const stopped = (streamId: string) => {
    running.delete(streamId)
    if (running.size > 0) return
    const waiters = idleWaiters
    idleWaiters = []
    for (const resolve of waiters) resolve()
  }

  const report = (error: unknown, streamId: string) => {
    try {
      onError?.(error, streamId)
    } catch {
      // A throwing logger must not take a stream down with it.
    }
  }

  const errorData = (error: unknown): string =>
    JSON.stringify(final(createErrorPayload(error, { expose: options.exposeErrors })))

  return {
    get size() {
      return running.size
    },

    run(streamId, producer, request) {
      const controller = new AbortController()
      let ending: Promise<string | undefined> | undefined
      let ended: () => void = () => {}
      const whenEnded = new Promise<void>((resolve) => {
        ended = resolve
      })

      // The first terminal wins; later sends are refused so nothing follows it in the log.
      const end = (event: EventInput, reason?: ProducerStopReason) => {
        if (ending) return ending
        if (reason) controller.abort(reason)
        unsubscribe()
        ending = (async () => {
          try {
            const id = await log.append(streamId, event)
            await log.complete(streamId)
            return id
          } catch (error) {
            report(error, streamId)
            return undefined
          } finally {
            // Counted until its terminal event is logged, so that `idle` means "all written".
            stopped(streamId)
            ended()
          }
        })()
        return ending
      }

      const unsubscribe = log.onCancel(streamId, () => void end(CANCELLED, 'cancelled'))
      running.set(streamId, async (event, reason) => void (await end(event, reason)))

      const stream: ProducerStream = {
        id: streamId,
        signal: controller.signal,
        send(input) {
          // Misuse throws here, before a terminal event could claim the stream's end and fail.
          assertEventInput(input)
          if (input.event === 'auth-expired') {
            throw new UnbrokenServerError(
              'invalid-argument',
              'auth-expired ends one connection, so the server sends it; a logged one would end every resume.',
            )
          }
          if (ending) {
            return Promise.reject(
              new UnbrokenServerError('stream-complete', 'This stream has already ended.'),
            )
          }
          if (isTerminalEvent(input.event)) {
            return end(input.event === 'error' ? finalError(input) : input).then(
              (id) =>
                id ?? Promise.reject(new UnbrokenServerError('log-unavailable', 'Not logged.')),
            )
          }
          return log.append(streamId, input)
        },
      }

      void (async () => {
        try {
          await producer(stream, request)
          await end({ event: 'done', data: '{}' })
        } catch (error) {
          // After a cancel or shutdown the producer's own exception is only the echo of it.
          if (ending) return
          report(error, streamId)
          await end({ event: 'error', data: errorData(error) })
        }
      })()
      return whenEnded
    },

    abandon(streamId) {
      void running.get(streamId)?.(ABANDONED, 'abandoned')
    },

    async stopAll() {
      await Promise.all([...running.values()].map((stop) => stop(STOPPED, 'shutting-down')))
    },

    has: (streamId) => running.has(streamId),

    idle() {
      if (running.size === 0) return Promise.resolve()
      return new Promise((resolve) => idleWaiters.push(resolve))
    },
  }
}
