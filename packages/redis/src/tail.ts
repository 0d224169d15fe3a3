import { setTimeout as sleep } from 'node:timers/promises'
import { idOf, seqOf } from './ids'

/** One stream entry as read from Redis; `seq` is parsed once here. */
export interface TailEntry {
  readonly id: string
  readonly seq: number
  readonly message: Readonly<Record<string, string>>
}

/**
 * Why a subscription ended without entries: its stream's keys are gone from Redis (`vanished`:
 * a restart without persistence, eviction, a flush) or Redis stopped answering (`unreachable`).
 */
export type TailLoss = 'vanished' | 'unreachable'

/**
 * Entries after the cursor, in order. `truncated` means the XREAD hit its COUNT, so the stream
 * went on past them: their logical trimming can then not be judged from the batch alone.
 */
export type TailBatch = readonly TailEntry[] & { readonly truncated?: true }

/** What a reader gets from its subscription next. */
export type TailDelivery = TailBatch | 'evicted' | 'closed' | 'aborted' | TailLoss

export interface TailSubscription {
  /** Entries after the cursor, in order; `evicted` means "catch up with XRANGE, then resubscribe". */
  take(signal?: AbortSignal): Promise<TailDelivery>
  close(): void
}

/** The subset of a node-redis client the tail needs (the dedicated blocking connection). */
export interface TailConnection {
  xRead(
    streams: { key: string; id: string }[],
    options: { BLOCK: number; COUNT: number },
  ): Promise<unknown>
  destroy(): void
}

export interface TailOptions {
  readonly connection: TailConnection
  /** This instance's mailbox stream, always part of the blocking read. */
  readonly mailboxKey: string
  /** Appends to the mailbox from another connection, ending the current block. */
  readonly wake: () => Promise<unknown>
  /** Called with every mailbox entry (cancel requests). */
  readonly onMailbox: (message: Readonly<Record<string, string>>) => void
  /** Whether to keep blocking with no subscriber (this instance owns live streams). */
  readonly keepRunning: () => boolean
  readonly blockMs: number
  readonly count: number
  /** A subscriber with more undelivered entries than this is dropped back to XRANGE paging. */
  readonly maxBuffered: number
}

export interface Tail {
  subscribe(streamId: string, key: string, cursor: number): TailSubscription
  /** Stream ids with at least one subscriber on this instance. */
  streamIds(): string[]
  /** Starts (or unparks) the loop, e.g. when this instance begins to own a stream. */
  poke(): void
  /** Ends the subscribers of one stream (or, without `streamId`, of every stream) with `loss`. */
  end(loss: TailLoss, streamId?: string): void
  close(): void
}

interface Subscriber {
  readonly streamId: string
  /** Seq of the last entry queued for this subscriber. */
  delivered: number
  readonly queue: TailBatch[]
  buffered: number
  evicted: boolean
  lost: TailLoss | undefined
  notify: (() => void) | undefined
}

/**
 * One blocking `XREAD` per log instance, on its own connection, multiplexing every tailing reader
 * of every stream: connections stay bounded at two per instance however many readers there are.
 * Each key is read from the lowest cursor of its subscribers; each subscriber keeps only entries
 * past its own cursor, so a batch is always the contiguous continuation of what it has.
 *
 * A new subscriber must end the current block. It appends to this instance's mailbox stream, which
 * the block always includes: unlike CLIENT UNBLOCK this cannot race, because an entry written
 * before the XREAD arrives makes it return at once.
 */
export function createTail(options: TailOptions): Tail {
  const { connection, mailboxKey } = options
  const subscribers = new Map<string, Set<Subscriber>>()
  const closing = new AbortController()
  let mailboxCursor = '0-0'
  let inflight: Map<string, number> | undefined
  let wakePending = false
  let running = false
  let unpark: (() => void) | undefined

  const wake = () => {
    if (wakePending) return
    wakePending = true
    // A lost wake only delays the new reader until the block times out; it never loses events.
    options.wake().catch(() => {})
  }

  /** `from` is the cursor the XREAD used for this key: the entries continue exactly after it. */
  const dispatch = (key: string, from: number, messages: readonly RawMessage[]) => {
    const set = subscribers.get(key)
    if (!set) return
    const entries: TailEntry[] = []
    const truncated = messages.length >= options.count
    for (const { id, message } of messages) {
      const seq = seqOf(id)
      if (seq !== undefined) entries.push({ id, seq, message })
    }
    for (const subscriber of set) {
      // A subscriber that joined mid-block behind this cursor would see a hole; its wake makes
      // the next XREAD start from its own cursor instead.
      if (subscriber.delivered < from) continue
      const fresh = entries.filter((entry) => entry.seq > subscriber.delivered)
      const last = fresh.at(-1)
      if (!last) continue
      subscriber.delivered = last.seq
      subscriber.queue.push(truncated ? Object.assign(fresh, { truncated: true as const }) : fresh)
      subscriber.buffered += fresh.length
      if (subscriber.buffered > options.maxBuffered) {
        // A slow reader must not grow this process's memory: it pages from Redis instead.
        subscriber.evicted = true
        remove(key, subscriber)
      }
      subscriber.notify?.()
    }
  }

  const remove = (key: string, subscriber: Subscriber) => {
    const set = subscribers.get(key)
    set?.delete(subscriber)
    if (set?.size === 0) subscribers.delete(key)
  }

  const loop = async () => {
    let backoffMs = 0
    while (!closing.signal.aborted) {
      if (subscribers.size === 0 && !options.keepRunning()) {
        running = false
        await new Promise<void>((resolve) => {
          unpark = resolve
        })
        running = true
        continue
      }
      const request = new Map<string, number>()
      for (const [key, set] of subscribers) {
        request.set(key, Math.min(...[...set].map((s) => s.delivered)))
      }
      const streams = [{ key: mailboxKey, id: mailboxCursor }]
      for (const [key, seq] of request) streams.push({ key, id: idOf(seq) })
      inflight = request
      wakePending = false
      let reply: unknown
      try {
        reply = await connection.xRead(streams, { BLOCK: options.blockMs, COUNT: options.count })
        backoffMs = 0
      } catch {
        // The connection dropped or Redis is down: node-redis reconnects; the next XREAD resumes
        // every subscriber from its own cursor, so nothing is skipped.
        inflight = undefined
        if (closing.signal.aborted) break
        backoffMs = Math.min(2_000, backoffMs ? backoffMs * 2 : 50)
        await sleep(backoffMs, undefined, { signal: closing.signal }).catch(() => {})
        continue
      }
      inflight = undefined
      for (const { name, messages } of asStreams(reply)) {
        if (name === mailboxKey) {
          const last = messages.at(-1)
          if (last) mailboxCursor = last.id
          for (const { message } of messages) options.onMailbox(message)
        } else {
          const from = request.get(name)
          if (from !== undefined) dispatch(name, from, messages)
        }
      }
    }
    running = false
  }

  const poke = () => {
    if (closing.signal.aborted) return
    if (!running) {
      if (unpark) {
        const resolve = unpark
        unpark = undefined
        resolve()
      } else {
        running = true
        void loop()
      }
    }
  }

  return {
    subscribe(streamId, key, cursor) {
      const subscriber: Subscriber = {
        streamId,
        delivered: cursor,
        queue: [],
        buffered: 0,
        evicted: false,
        lost: undefined,
        notify: undefined,
      }
      if (!closing.signal.aborted) {
        let set = subscribers.get(key)
        if (!set) {
          set = new Set()
          subscribers.set(key, set)
        }
        set.add(subscriber)
        const covered = inflight?.get(key)
        if (inflight && (covered === undefined || covered > cursor)) wake()
        poke()
      }
      return {
        async take(signal) {
          while (true) {
            const batch = subscriber.queue.shift()
            if (batch) {
              subscriber.buffered -= batch.length
              return batch
            }
            if (subscriber.evicted) return 'evicted'
            if (subscriber.lost) return subscriber.lost
            if (closing.signal.aborted) return 'closed'
            if (signal?.aborted) return 'aborted'
            // `close` and `end` call notify themselves: a listener per waiting reader on one
            // shared signal would trip Node's MaxListenersExceededWarning past ten readers.
            await new Promise<void>((resolve) => {
              const done = () => {
                subscriber.notify = undefined
                signal?.removeEventListener('abort', done)
                resolve()
              }
              subscriber.notify = done
              signal?.addEventListener('abort', done, { once: true })
            })
          }
        },
        close() {
          remove(key, subscriber)
        },
      }
    },
    streamIds() {
      const ids = new Set<string>()
      for (const set of subscribers.values()) for (const s of set) ids.add(s.streamId)
      return [...ids]
    },
    poke,
    end(loss, streamId) {
      for (const [key, set] of subscribers) {
        for (const subscriber of set) {
          if (streamId !== undefined && subscriber.streamId !== streamId) continue
          subscriber.lost = loss
          remove(key, subscriber)
          subscriber.notify?.()
        }
      }
    },
    close() {
      if (closing.signal.aborted) return
      closing.abort()
      unpark?.()
      for (const set of subscribers.values()) for (const subscriber of set) subscriber.notify?.()
      // Ends the blocking XREAD now instead of after blockMs.
      connection.destroy()
    },
  }
}

interface RawMessage {
  readonly id: string
  readonly message: Readonly<Record<string, string>>
}

/** node-redis answers XREAD (RESP2) with `[{ name, messages: [{ id, message }] }]` or null. */
function asStreams(reply: unknown): { name: string; messages: RawMessage[] }[] {
  return Array.isArray(reply) ? (reply as { name: string; messages: RawMessage[] }[]) : []
}
