import { UnbrokenServerError } from './errors'
import type { LoggedEvent } from './log'
import { isTerminalEvent } from './resumable-producer'
import type { EventWriter } from './types'
import { StreamWriter } from './writer'

/** One connection's view of a stream: log events in, SSE out. */
export interface RelayInput {
  readonly events: AsyncIterator<LoggedEvent>
  /** The first result, when it was already pulled before opening (to answer 404/410 in time). */
  readonly first?: IteratorResult<LoggedEvent> | undefined
  readonly writer: EventWriter
  /** The log's last event id when the connection attached; events up to it count as replayed. */
  readonly replayThrough?: string | undefined
}

/**
 * Copies events from the log to one connection until a terminal event, the end of the log, or a
 * disconnect. Logged events go out as they are: the relay never invents a terminal event of its
 * own, except `producer-lost` for a log that ended without one. The producer never waits for
 * this: a slow client only slows its own relay, and the writer's drain timeout drops it so that
 * it resumes from the log.
 */
export async function relay(input: RelayInput): Promise<void> {
  const { events, writer } = input
  let replaying = input.replayThrough !== undefined
  let replayed = 0
  const flushReplayed = () => {
    if (replayed > 0 && writer instanceof StreamWriter) writer.recordReplayed(replayed)
    replayed = 0
    replaying = false
  }
  try {
    let result = input.first ?? (await events.next())
    while (!result.done) {
      const event = result.value
      const outcome = await writer.send({ id: event.id, event: event.event, data: event.data })
      if (outcome === 'closed') return
      if (replaying) {
        replayed += 1
        if (event.id === input.replayThrough) flushReplayed()
      }
      if (isTerminalEvent(event.event)) {
        writer.close('ended')
        return
      }
      result = await events.next()
    }
    if (writer.closed) return
    // The log completed the stream without a terminal event: its producer died or was aged out.
    await writer.fail(
      new UnbrokenServerError(
        'producer-lost',
        'The stream stopped before it finished; start a new stream.',
      ),
    )
  } catch (error) {
    // Mid-stream log failures (a reader pushed off the log, Redis down) end this connection.
    if (!writer.closed) await writer.fail(error)
  } finally {
    flushReplayed()
    await events.return?.()
  }
}
