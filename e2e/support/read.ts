import type { EventStream, EventStreamSnapshot } from '@unbroken/client'
import type { ComparableEvent } from './compare'
import { toComparable } from './events'

export type Collected = {
  readonly events: ComparableEvent[]
  /** The store's final snapshot: how the stream ended and how many reconnects it took. */
  readonly snapshot: EventStreamSnapshot
  /** What the iterator threw, if it ended with an error. */
  readonly error: unknown
}

/**
 * Reads `stream` to its end with `for await`. Bounded: after `timeoutMs` the stream is closed and
 * this rejects naming `what`, so a hang fails the test with its scenario instead of a timeout.
 */
export async function collect(
  stream: EventStream,
  { timeoutMs = 15_000, what = stream.url } = {},
): Promise<Collected> {
  const events: ComparableEvent[] = []
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    stream.close()
  }, timeoutMs)
  let error: unknown
  try {
    for await (const event of stream) events.push(toComparable(event))
  } catch (thrown) {
    error = thrown
  } finally {
    clearTimeout(timer)
  }
  if (timedOut) {
    throw new Error(
      `${what}: no end after ${timeoutMs} ms (${events.length} events so far, last id ${JSON.stringify(stream.getSnapshot().lastEventId)})`,
    )
  }
  return { events, snapshot: stream.getSnapshot(), error }
}
