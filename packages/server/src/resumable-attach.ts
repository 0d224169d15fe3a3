// Where a GET starts reading a stream, decided before the response opens, so that a cursor the log
// cannot honour is answered 404/410 and a valid one opens at once, even on a stream with no event.
import { UnbrokenServerError } from './errors'
import type { EventLog, LoggedEvent, StreamInfo } from './log'
import { isTerminalEvent } from './resumable-producer'
import type { RelayInput } from './resumable-relay'

/** What a connection attaching after `cursor` relays, and what its opening says. */
export interface Attachment extends Omit<RelayInput, 'writer'> {
  /** The cursor block (protocol v1 §5): the position this connection starts after. */
  readonly cursor: string
}

// A cursor with a line break or NUL can arrive only through `?lastEventId=` (headers cannot carry
// them); no log issues one, and the cursor block could not carry it.
const NOT_AN_ID = /[\r\n\0]/

/**
 * Prepares a connection to stream `id` after `cursor` (the log's `startId` when the request has
 * none). Never waits for an event: it pulls the first one only when the log already holds one
 * after the cursor, and that pull is what turns a cursor the log no longer keeps (or never issued)
 * into `cursor-expired` before anything is sent.
 */
export async function attachAfter(
  log: EventLog,
  id: string,
  info: StreamInfo,
  requested: string | undefined,
  signal: AbortSignal,
): Promise<Attachment> {
  const cursor = requested ?? log.startId
  if (NOT_AN_ID.test(cursor)) throw notIssued()
  const last = info.lastEvent
  const events = log.read(id, { after: cursor, signal })[Symbol.asyncIterator]()
  if (last === undefined) {
    // Nothing is logged yet, so nothing can have been trimmed: only the start is a valid cursor.
    if (cursor !== log.startId) throw notIssued()
    return { cursor, events }
  }
  if (cursor === last.id) {
    // At the tail. A finished stream's terminal event is replayed as it is: the stream's last
    // word, never replaced by a `done` of the registry's own.
    const ended = info.status === 'complete' && isTerminalEvent(last.event)
    const first = ended ? { done: false as const, value: last } : undefined
    return { cursor, events, first }
  }
  try {
    const first: IteratorResult<LoggedEvent> = await events.next()
    return { cursor, events, first, replayThrough: last.id }
  } catch (error) {
    await events.return?.()
    throw error
  }
}

function notIssued(): UnbrokenServerError {
  return new UnbrokenServerError(
    'cursor-expired',
    'This Last-Event-ID was not issued by this stream; start a new stream.',
  )
}
