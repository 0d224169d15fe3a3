/**
 * What the Redis log holds for a stream: the reference a reader's events are checked against,
 * read with `@unbroken/redis` itself, as any instance reads it.
 */
import { createRedisEventLog } from '@unbroken/redis'
import type { EventLog } from '@unbroken/server'
import type { ComparableEvent } from '../support/compare'

const TERMINAL = new Set(['done', 'error'])
// How a read ends after everything logged when the stream has no terminal event: its producer
// died, or its appends failed while Redis was unreachable (the stream broke off).
const BROKEN_OFF = new Set(['producer-lost', 'log-unavailable'])

/** The stream's events up to its terminal event (or where it broke off), where readers stop. */
export async function readLogged(log: EventLog, streamId: string): Promise<ComparableEvent[]> {
  const events: ComparableEvent[] = []
  try {
    for await (const { id, event, data } of log.read(streamId)) {
      events.push({ type: event ?? 'message', id, data })
      if (TERMINAL.has(event ?? '')) break
    }
  } catch (error) {
    if (!BROKEN_OFF.has(String((error as { code?: unknown }).code))) throw error
  }
  return events
}

/** {@link readLogged} over a short-lived connection to the Redis at `url`. */
export async function readLoggedAt(url: string, streamId: string): Promise<ComparableEvent[]> {
  const log = createRedisEventLog({ url })
  try {
    return await readLogged(log, streamId)
  } finally {
    await log.close()
  }
}
