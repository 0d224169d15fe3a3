import type { EventLogReadOptions, LoggedEvent } from '@unbroken/server'
import { decodeEntry } from './entries'
import { RedisEventLogError, streamError } from './errors'
import { idOf, seqOf } from './ids'
import type { Keys } from './keys'
import type { Tail, TailEntry, TailSubscription } from './tail'

type Message = Readonly<Record<string, string>>

/** The commands a reader sends on the shared command connection; each fails with a log error. */
export interface ReaderClient {
  hGet(key: string, field: string): Promise<string | null | undefined>
  xRange(
    key: string,
    start: string,
    end: string,
    options: { COUNT: number },
  ): Promise<{ id: string; message: Message }[]>
  xRevRange(
    key: string,
    end: string,
    start: string,
    options: { COUNT: number },
  ): Promise<{ id: string; message: Message }[]>
}

export interface ReaderContext {
  readonly client: ReaderClient
  readonly keys: Keys
  readonly tail: () => Tail
  readonly pageSize: number
}

/**
 * Replays with XRANGE pages, then tails through the shared blocking XREAD. Because ids are
 * consecutive (`0-*`), each entry must be exactly cursor + 1: anything else means trimming overtook
 * this reader, which then fails with `cursor-expired` rather than skip events silently.
 */
export async function* readStream(
  context: ReaderContext,
  streamId: string,
  options: EventLogReadOptions = {},
): AsyncGenerator<LoggedEvent> {
  const { client, keys, pageSize } = context
  const { after, signal } = options
  const key = keys.stream(streamId)
  const start = after === undefined ? undefined : seqOf(after)
  if (after !== undefined && start === undefined) throw notIssued(streamId, after)

  const [status, page, newest] = await Promise.all([
    client.hGet(keys.meta(streamId), 'status'),
    client.xRange(key, start === undefined ? '-' : `(${idOf(start)}`, '+', { COUNT: pageSize }),
    client.xRevRange(key, '+', '-', { COUNT: 1 }),
  ])
  if (status === null || status === undefined) throw streamError(streamId, 'unknown-stream')
  const newestSeq = newest[0] ? (seqOf(newest[0].id) ?? 0) : 0
  if (start !== undefined && start > newestSeq) throw notIssued(streamId, String(after))
  const first = page[0]
  let cursor = start ?? (first ? (seqOf(first.id) ?? 1) - 1 : 0)
  if (first && seqOf(first.id) !== cursor + 1) throw expired(streamId, idOf(cursor))
  if (signal?.aborted) return

  let batch: readonly TailEntry[] = toEntries(page)
  let pulling = batch.length === pageSize
  if (batch.length === 0 && status !== 'live') {
    // A terminal stream read from past its marker: there is nothing left to wait for.
    return
  }

  let subscription: TailSubscription | undefined
  try {
    while (true) {
      for (const entry of batch) {
        if (entry.seq !== cursor + 1) throw expired(streamId, idOf(cursor))
        cursor = entry.seq
        const decoded = decodeEntry(streamId, entry.id, entry.message)
        if (decoded.kind === 'end') return
        if (decoded.kind === 'event') {
          yield decoded.event
          if (signal?.aborted) return
        }
      }
      if (pulling) {
        const next = await client.xRange(key, `(${idOf(cursor)}`, '+', { COUNT: pageSize })
        batch = toEntries(next)
        pulling = batch.length === pageSize
        continue
      }
      // One subscription for the whole tail: re-subscribing per batch would cost a wake each.
      subscription ??= context.tail().subscribe(streamId, key, cursor)
      const delivery = await subscription.take(signal)
      if (delivery === 'aborted') return
      if (delivery === 'closed') {
        throw new RedisEventLogError('log-unavailable', 'The event log was closed.')
      }
      if (delivery === 'vanished' || delivery === 'unreachable')
        throw streamError(streamId, delivery)
      if (delivery === 'evicted') {
        subscription.close()
        subscription = undefined
        batch = []
        pulling = true
      } else {
        batch = delivery
      }
    }
  } finally {
    subscription?.close()
  }
}

function toEntries(messages: readonly { id: string; message: Message }[]): TailEntry[] {
  const entries: TailEntry[] = []
  for (const { id, message } of messages) entries.push({ id, seq: seqOf(id) ?? -1, message })
  return entries
}

function notIssued(streamId: string, after: string): RedisEventLogError {
  return new RedisEventLogError(
    'cursor-expired',
    `Cursor "${after}" was not issued by stream "${streamId}"; start a new stream.`,
  )
}

function expired(streamId: string, after: string): RedisEventLogError {
  return new RedisEventLogError(
    'cursor-expired',
    `Cursor "${after}" of stream "${streamId}" is older than the events kept; start a new stream.`,
  )
}
