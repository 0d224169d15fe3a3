import { UnbrokenServerError } from './errors'
import type { LoggedEvent } from './log'
import { isTerminalEvent } from './resumable-producer'
import type { EventWriter } from './types'
import { StreamWriter } from './writer'

/** One connection's view of a stream: log events in, SSE out. */
export interface RelayInput {
  readonly events: AsyncIterator<LoggedEvent>
  /** The first result, when it was already pulled to validate the cursor before opening. */
  readonly first?: IteratorResult<LoggedEvent> | undefined
  readonly writer: EventWriter
  /** The request carried a cursor: a stream found already ended then gets `done` (DESIGN §2.6). */
  readonly resumed: boolean
  /** The log's last id when the connection attached; events up to it count as replayed. */
  readonly replayUntil?: string | undefined
}

/**
 * Copies events from the log to one connection until a terminal event, the end of the log, or a
 * disconnect. The producer never waits for this: a slow client only slows its own relay, and the
 * writer's drain timeout drops it so that it resumes from the log.
 */
export async function relay(input: RelayInput): Promise<void> {
  const { events, writer } = input
  let replaying = input.replayUntil !== undefined
  let replayed = 0
  let delivered = 0
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
      delivered += 1
      if (replaying) {
        replayed += 1
        if (event.id === input.replayUntil) flushReplayed()
      }
      if (isTerminalEvent(event.event)) {
        writer.close('ended')
        return
      }
      result = await events.next()
    }
    if (writer.closed) return
    if (delivered === 0 && input.resumed) {
      // Resumed after the last event of a finished stream: nothing is left but the ending.
      await writer.end()
      return
    }
    // The log completed the stream without a terminal event: its producer died or was aged out.
    await writer.fail(
      new UnbrokenServerError(
        'producer-lost',
        'The stream ended without finishing; start a new one.',
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
