import type { ServerSentEvent } from './parser'

/**
 * What a resumed connection's block means (agreement A2): deliver it, drop it as the repeat of the
 * cursor's own event, or stop because the server ignored the cursor or went back in the stream.
 */
export type Verdict = 'deliver' | 'duplicate' | 'cursor-ignored' | 'restart'

/**
 * Tracks the resume position over every connection of a stream and judges each block by id
 * equality alone (ids are opaque), so plain SSE servers keep working:
 * - an event whose id is the cursor sent, before any other id, is the server repeating it: a
 *   duplicate; after other ids, the server went back to before the cursor: a restart;
 * - an id-only block as the connection's first block is the server's cursor (A1): equal to ours
 *   confirms it, another means the server did not resume where we stopped; after events it is
 *   only a new position (a checkpoint);
 * - an event with the id of the first event the stream delivered is a restart.
 * Each connection's parser starts with no id, so an event whose id differs from the previous
 * block's carries its own; one with the same id inherited it (a server that sends ids on some
 * events only), and its position is still the cursor's until the connection commits an id.
 */
export const createResumeGuard = (initialId: string) => {
  let cursor = initialId
  let current = ''
  // This connection has moved the position: an id-only block, or an event with its own id.
  let committed = false
  // This connection has had a block; the A1 cursor block is always its first.
  let started = false
  let firstId = ''
  return {
    /** The resume position: the last id committed, on this connection or before it. */
    get lastEventId() {
      return committed ? current : cursor
    },
    /** A connection starts that sent the current position as its cursor ('' for none). */
    open() {
      cursor = committed ? current : cursor
      current = ''
      committed = started = false
    },
    /** An id-only block. */
    id(id: string): Verdict {
      const ignored = !started && cursor && id !== cursor
      committed = started = true
      current = id
      return ignored ? 'cursor-ignored' : 'deliver'
    },
    /** An event; a duplicate does not move the position past anything new. */
    event({ lastEventId: id }: ServerSentEvent): Verdict {
      started = true
      if (id === current) return 'deliver'
      const first = !committed
      committed = true
      current = id
      if (cursor && id === cursor) return first ? 'duplicate' : 'restart'
      if (id && id === firstId) return 'restart'
      firstId ||= id
      return 'deliver'
    },
  }
}

/** The resume position and A2 judge of one stream, over all its connections. */
export type ResumeGuard = ReturnType<typeof createResumeGuard>
