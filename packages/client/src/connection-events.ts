import { eventError } from './classify'
import { UnbrokenClientError } from './errors'
import { createEventStreamParser, type ServerSentEvent } from './parser'
import type { ResumeGuard, Verdict } from './resume-guard'
import type { EventStreamOptions } from './types'

/** How one connection ended, once its events said so: `error` unset means the terminal event. */
type ConnectionOutcome = { readonly error?: UnbrokenClientError }

/**
 * What one connection's body means, block by block: the events to deliver (with the resume
 * position as their `lastEventId`), the server's repeat of the cursor's event to drop (A2), and
 * the outcome that ends the connection: the terminal event, an `error` or `auth-expired` event,
 * a restart or a cursor the server ignored. Blocks after the outcome, even in the same chunk,
 * are ignored. The guard must be opened for this connection first.
 */
export const createConnectionEvents = (
  guard: ResumeGuard,
  { isDone = (event) => event.type === 'done', maxEventBytes }: EventStreamOptions,
  onRetry: (ms: number) => void,
  deliver: (event: ServerSentEvent) => void,
) => {
  const cursor = guard.lastEventId
  let outcome: ConnectionOutcome | undefined
  const judge = (verdict: Verdict, id: string) => {
    if (verdict === 'cursor-ignored' || verdict === 'restart')
      outcome = {
        error: new UnbrokenClientError(
          'resume-failed',
          verdict === 'restart'
            ? `The server went back in the stream (event ${id} again)`
            : `The server resumed from ${id}, not from the cursor ${cursor}`,
        ),
      }
    return verdict === 'deliver'
  }
  const parser = createEventStreamParser({
    maxEventBytes,
    onRetry,
    onId: (id) => {
      if (!outcome) judge(guard.id(id), id)
    },
    onEvent: (parsed) => {
      if (outcome || !judge(guard.event(parsed), parsed.lastEventId)) return
      if (parsed.type === 'error') outcome = { error: eventError(parsed.data) }
      else if (parsed.type === 'auth-expired')
        outcome = {
          // The data (`{"expiresAt"}`) tells a new expiry from the one a refresh just answered.
          error: new UnbrokenClientError('auth', 'auth-expired', {
            serverCode: 'auth-expired',
            body: parsed.data,
          }),
        }
      else {
        // An event with no id of its own carries the resume position, as EventSource's would.
        const { lastEventId } = guard
        const event = parsed.lastEventId === lastEventId ? parsed : { ...parsed, lastEventId }
        deliver(event)
        if (isDone(event)) outcome = {}
      }
    },
  })
  return {
    /** Parses one body chunk; returns whether the connection's outcome is now known. */
    write(bytes: Uint8Array): boolean {
      parser.write(bytes)
      return !!outcome
    },
    get outcome(): ConnectionOutcome | undefined {
      return outcome
    },
  }
}
