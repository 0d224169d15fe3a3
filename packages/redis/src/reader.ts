import type { EventLogReadOptions, LoggedEvent } from '@unbroken/server'
import { UnbrokenServerError } from '@unbroken/server'
import { decodeEntry, eventBytes } from './entries'
import { stateError } from './errors'
import { idOf, START_ID, seqOf } from './ids'
import type { Keys } from './keys'
import type { Tail, TailBatch, TailEntry, TailSubscription } from './tail'

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
  /** The same limits the append script enforces: a tail batch is judged against them. */
  readonly maxEvents: number
  readonly maxBytes: number
}

/**
 * Replays with XRANGE pages, then tails through the shared blocking XREAD. Because ids are
 * consecutive (`0-*`), each entry must be exactly cursor + 1: anything else means trimming overtook
 * this reader, which then fails with `cursor-expired` rather than skip events silently.
 *
 * Trimming is logical: the append script keeps the exact oldest seq kept (`head` in meta) while
 * Redis drops whole macro-nodes later, so entries below `head` may still be present. They are
 * skipped as if absent, which turns them into the same gap a physical trim leaves. XRANGE pages
 * fetch `head` right after the page (it only grows, so it is never older than the page); a tail
 * batch that reaches the stream's end is judged from its own entries, exactly as the script would.
 */
export async function* readStream(
  context: ReaderContext,
  streamId: string,
  options: EventLogReadOptions = {},
): AsyncGenerator<LoggedEvent> {
  const { client, keys, pageSize } = context
  const { signal } = options
  const key = keys.stream(streamId)
  const start = seqOf(options.after ?? START_ID)
  if (start === undefined) throw notIssued()

  const [status, page, headField, newest] = await Promise.all([
    client.hGet(keys.meta(streamId), 'status'),
    client.xRange(key, `(${idOf(start)}`, '+', { COUNT: pageSize }),
    client.hGet(keys.meta(streamId), 'head'),
    client.xRevRange(key, '+', '-', { COUNT: 1 }),
  ])
  if (status === null || status === undefined) throw stateError('unknown-stream')
  const newestSeq = newest[0] ? (seqOf(newest[0].id) ?? 0) : 0
  if (start > newestSeq) throw notIssued()
  const head = Number(headField ?? 1)
  if (start + 1 < head) throw expired()
  let batch: readonly TailEntry[] = toEntries(page)
  let cursor = start
  if (batch[0] && batch[0].seq !== cursor + 1) throw expired()
  if (signal?.aborted) return

  let pulling = page.length === pageSize
  if (page.length === 0 && status !== 'live') {
    // A terminal stream read from past its marker: there is nothing left to wait for.
    return
  }

  let subscription: TailSubscription | undefined
  try {
    while (true) {
      for (const entry of batch) {
        if (entry.seq !== cursor + 1) throw expired()
        cursor = entry.seq
        const decoded = decodeEntry(entry.id, entry.message)
        if (decoded.kind === 'end') return
        if (decoded.kind === 'event') {
          yield decoded.event
          if (signal?.aborted) return
        }
      }
      if (pulling) {
        const [next, field] = await Promise.all([
          client.xRange(key, `(${idOf(cursor)}`, '+', { COUNT: pageSize }),
          client.hGet(keys.meta(streamId), 'head'),
        ])
        batch = overtaken(toEntries(next), Number(field ?? 1))
        pulling = next.length === pageSize
        continue
      }
      // One subscription for the whole tail: re-subscribing per batch would cost a wake each.
      subscription ??= context.tail().subscribe(streamId, key, cursor)
      const delivery = await subscription.take(signal)
      if (delivery === 'aborted') return
      if (delivery === 'closed') {
        throw new UnbrokenServerError('log-unavailable', 'The event log was closed; try again.')
      }
      if (delivery === 'vanished' || delivery === 'unreachable') throw stateError(delivery)
      if (delivery === 'evicted') {
        subscription.close()
        subscription = undefined
        batch = []
        pulling = true
      } else {
        let floor = headOf(delivery, context.maxEvents, context.maxBytes)
        if (delivery.truncated) {
          floor = Math.max(floor, Number((await client.hGet(keys.meta(streamId), 'head')) ?? 1))
        }
        batch = overtaken(delivery, floor)
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

/** Entries continuing `cursor`; `cursor-expired` when the logical start has passed it. */
function overtaken(entries: readonly TailEntry[], head: number): readonly TailEntry[] {
  const first = entries[0]
  if (first && first.seq < head) throw expired()
  return entries
}

/**
 * The logical start implied by a batch that ends at the stream's end, computed as the append
 * script does from its last event: at most `maxEvents` entries, and at most `maxBytes` of events.
 * A lower bound otherwise: the stream only grows, and the start with it.
 */
function headOf(entries: TailBatch, maxEvents: number, maxBytes: number): number {
  let anchor: number | undefined
  let bytes = 0
  for (let i = entries.length - 1; i >= 0; i -= 1) {
    const entry = entries[i] as TailEntry
    const data = entry.message.d
    if (data === undefined) continue
    anchor ??= entry.seq
    bytes += eventBytes(data, entry.message.e)
    if (bytes > maxBytes) return Math.max(entry.seq + 1, anchor - maxEvents + 1)
  }
  return anchor === undefined ? 0 : anchor - maxEvents + 1
}

function notIssued(): UnbrokenServerError {
  return new UnbrokenServerError(
    'cursor-expired',
    'This Last-Event-ID was not issued by this stream; start a new stream.',
  )
}

function expired(): UnbrokenServerError {
  return new UnbrokenServerError(
    'cursor-expired',
    'The events after this Last-Event-ID are no longer kept; start a new stream.',
  )
}
