/**
 * What the Redis log holds for a stream: the reference a reader's events are checked against,
 * read with `@unbroken/redis` itself, as any instance reads it.
 */
import { createRedisEventLog } from '@unbroken/redis'
import type { EventLog } from '@unbroken/server'
import type { ComparableEvent } from '../support/compare'

const TERMINAL = new Set(['done', 'error'])

/**
 * The stream's events up to its terminal event, where readers stop. A stream whose producer died
 * ends without one: its read ends with `producer-lost`, after everything that was logged.
 */
export async function readLogged(log: EventLog, streamId: string): Promise<ComparableEvent[]> {
  const events: ComparableEvent[] = []
  try {
    for await (const { id, event, data } of log.read(streamId)) {
      events.push({ type: event ?? 'message', id, data })
      if (TERMINAL.has(event ?? '')) break
    }
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'producer-lost') throw error
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
