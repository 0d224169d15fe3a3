import { UnbrokenServerError } from './errors'
import { assertEventInput } from './format'
import { unref } from './keepalive'
import type {
  EventInput,
  EventLog,
  EventLogReadOptions,
  LoggedEvent,
  StreamInfo,
  StreamStatus,
} from './log'
import { delay, positive } from './settings'
import { utf8Length } from './utf8'

/**
 * Bounds of the in-memory log, per stream. Retention is by time: a stream keeps every event while
 * it is live and for `ttlMs` after it completes. The count and byte limits are generous caps that
 * stop a runaway producer, not a window a long answer could outgrow.
 */
export interface MemoryEventLogOptions {
  /** Events kept per stream (default 500 000); older ones are trimmed and their ids expire. */
  readonly maxEvents?: number | undefined
  /** UTF-8 bytes of `event` + `data` kept per stream (default 32 MiB); trimmed like `maxEvents`. */
  readonly maxBytes?: number | undefined
  /** How long a completed stream stays readable, so late clients can still resume. */
  readonly ttlMs?: number | undefined
  /**
   * Longest a stream may stay live. An abandoned producer (one that never completes) would
   * otherwise hold its events forever: at this age the log cancels and completes the stream.
   */
  readonly maxStreamAgeMs?: number | undefined
}

/**
 * A whole long answer, kept until 5 minutes after its end. A coding agent's answer of 100 000
 * tokens is ~100 000 events and ~5 MB of JSON deltas: 5× under each cap. Each event costs about
 * 30 bytes of heap besides its text, so the count cap also bounds memory (~15 MB + 32 MiB).
 */
const MEMORY_LOG_DEFAULTS = {
  maxEvents: 500_000,
  maxBytes: 32 * 1024 * 1024,
  ttlMs: 5 * 60_000,
  maxStreamAgeMs: 60 * 60_000,
} as const

// Sequence numbers start at 1, so "0" names the position before the first event.
const START_ID = '0'

interface StreamRecord {
  status: StreamStatus
  readonly meta: Readonly<Record<string, string>>
  /**
   * Kept events are `data[head..]` with their types in `types[head..]` (mostly `undefined`); a
   * moving head makes trimming O(1). No object per event: its id is its sequence number, and its
   * `LoggedEvent` is built when it is read. An entry, an event and an id string per event, kept
   * alive as long as the stream, made garbage collection 17.6% of the registry's CPU (bench/).
   */
  data: (string | undefined)[]
  types: (string | undefined)[]
  head: number
  /** Sequence number of `data[head]`; ids are this counter in decimal. */
  firstSeq: number
  lastSeq: number
  bytes: number
  cancelled: boolean
  readonly cancelListeners: Set<() => void>
  /** Readers on the live tail; woken by append, complete, expiry and close. */
  readonly wakers: Set<() => void>
  timer: ReturnType<typeof setTimeout> | undefined
}

/**
 * The default `EventLog`: per-process, bounded by count, bytes, age and a post-completion TTL.
 * Ids are per-stream decimal counters ("1", "2", ...); a restart loses every stream, which then
 * answers `unknown-stream`, so old numeric cursors are never reinterpreted.
 */
export function createMemoryEventLog(options: MemoryEventLogOptions = {}): EventLog {
  const maxEvents = positive('maxEvents', options.maxEvents ?? MEMORY_LOG_DEFAULTS.maxEvents)
  const maxBytes = positive('maxBytes', options.maxBytes ?? MEMORY_LOG_DEFAULTS.maxBytes)
  const ttlMs = lifetime('ttlMs', options.ttlMs ?? MEMORY_LOG_DEFAULTS.ttlMs)
  const maxStreamAgeMs = lifetime(
    'maxStreamAgeMs',
    options.maxStreamAgeMs ?? MEMORY_LOG_DEFAULTS.maxStreamAgeMs,
  )
  const streams = new Map<string, StreamRecord>()
  let closed = false

  const open = (): void => {
    if (closed) throw new UnbrokenServerError('log-unavailable', 'The event log was closed.')
  }

  const get = (streamId: string): StreamRecord => {
    open()
    const record = streams.get(streamId)
    if (!record)
      throw new UnbrokenServerError('unknown-stream', 'No such stream; it may have expired.')
    return record
  }

  // Readers stay registered until they end (and may end, deleting themselves, while woken).
  const wake = (record: StreamRecord): void => {
    for (const waker of record.wakers) waker()
  }

  const schedule = (record: StreamRecord, ms: number, run: () => void): void => {
    if (record.timer !== undefined) clearTimeout(record.timer)
    record.timer = setTimeout(run, ms)
    // A pending expiry must not keep the process alive on its own.
    unref(record.timer)
  }

  const finish = (streamId: string, record: StreamRecord): void => {
    record.status = 'complete'
    record.cancelListeners.clear()
    schedule(record, ttlMs, () => {
      streams.delete(streamId)
      wake(record)
    })
    wake(record)
  }

  const fireCancel = (record: StreamRecord): void => {
    record.cancelled = true
    const listeners = [...record.cancelListeners]
    record.cancelListeners.clear()
    for (const listener of listeners) listener()
  }

  const trim = (record: StreamRecord): void => {
    while (record.lastSeq - record.firstSeq + 1 > maxEvents || record.bytes > maxBytes) {
      const data = record.data[record.head]
      if (data === undefined) break
      // Counted again rather than stored: trimming happens only at a cap, appends every time.
      record.bytes -= sizeOf(data, record.types[record.head])
      record.data[record.head] = undefined
      record.types[record.head] = undefined
      record.head += 1
      record.firstSeq += 1
    }
    // Compact once the dead prefix dominates, keeping appends amortised O(1).
    if (record.head > 1024 && record.head * 2 > record.data.length) {
      record.data = record.data.slice(record.head)
      record.types = record.types.slice(record.head)
      record.head = 0
    }
  }

  /** The kept event `seq`, built as it is read. */
  const eventAt = (record: StreamRecord, seq: number): LoggedEvent | undefined => {
    const at = record.head + seq - record.firstSeq
    const data = record.data[at]
    if (data === undefined) return undefined
    const event = record.types[at]
    const id = String(seq)
    return event === undefined ? { id, data } : { id, event, data }
  }

  /** Turns a cursor into the sequence number it names, or explains why it cannot resume. */
  const cursorOf = (record: StreamRecord, after: string): number => {
    const seq = /^(0|[1-9]\d{0,15})$/.test(after) ? Number(after) : Number.NaN
    if (!Number.isSafeInteger(seq) || seq > record.lastSeq) {
      // A cursor this stream never issued cannot be resumed from; waiting for it would hang.
      throw new UnbrokenServerError(
        'cursor-expired',
        'This Last-Event-ID was not issued by this stream; start a new stream.',
      )
    }
    if (seq < record.firstSeq - 1) throw expired()
    return seq
  }

  async function* read(
    streamId: string,
    readOptions: EventLogReadOptions = {},
  ): AsyncGenerator<LoggedEvent> {
    const { signal } = readOptions
    const record = get(streamId)
    let cursor = cursorOf(record, readOptions.after ?? START_ID)
    // One waker and one abort listener for the reader's life: a reader that keeps up with its
    // producer parks after every event, and a fresh pair per park (an AbortSignal listener above
    // all) cost the registry more than its writer (bench/, `--cpu-prof`).
    let resume: (() => void) | undefined
    const wakeUp = () => {
      const parked = resume
      resume = undefined
      parked?.()
    }
    record.wakers.add(wakeUp)
    signal?.addEventListener('abort', wakeUp)
    try {
      while (true) {
        if (signal?.aborted) return
        open()
        // One thread appends and reads, so walking by sequence number cannot skip or repeat.
        while (cursor < record.lastSeq) {
          if (cursor < record.firstSeq - 1) throw expired()
          const event = eventAt(record, cursor + 1)
          if (!event) break
          cursor += 1
          yield event
          if (signal?.aborted) return
        }
        if (record.status === 'complete') return
        await new Promise<void>((resolve) => {
          resume = resolve
        })
      }
    } finally {
      record.wakers.delete(wakeUp)
      signal?.removeEventListener('abort', wakeUp)
    }
  }

  return {
    startId: START_ID,

    async create(streamId, meta = {}) {
      open()
      if (streams.has(streamId)) {
        throw new UnbrokenServerError('stream-exists', `Stream "${streamId}" already exists.`)
      }
      const record: StreamRecord = {
        status: 'live',
        meta: Object.freeze({ ...meta }),
        data: [],
        types: [],
        head: 0,
        firstSeq: 1,
        lastSeq: 0,
        bytes: 0,
        cancelled: false,
        cancelListeners: new Set(),
        wakers: new Set(),
        timer: undefined,
      }
      streams.set(streamId, record)
      schedule(record, maxStreamAgeMs, () => {
        // Ask the producer to stop, then end readers: a stream nobody completes must still end.
        fireCancel(record)
        if (record.status === 'live') finish(streamId, record)
      })
    },

    async append(streamId, input: EventInput) {
      assertEventInput(input)
      const record = get(streamId)
      if (record.status === 'complete') {
        throw new UnbrokenServerError('stream-complete', `Stream "${streamId}" is complete.`)
      }
      const bytes = sizeOf(input.data, input.event)
      if (bytes > maxBytes) {
        throw new UnbrokenServerError(
          'stream-too-large',
          `An event of ${bytes} bytes exceeds maxBytes (${maxBytes}); split it or raise maxBytes.`,
        )
      }
      record.lastSeq += 1
      record.data.push(input.data)
      record.types.push(input.event)
      record.bytes += bytes
      trim(record)
      wake(record)
      return String(record.lastSeq)
    },

    async complete(streamId) {
      const record = get(streamId)
      if (record.status === 'complete') return
      finish(streamId, record)
    },

    async info(streamId): Promise<StreamInfo | undefined> {
      open()
      const record = streams.get(streamId)
      if (!record) return undefined
      return {
        status: record.status,
        meta: record.meta,
        lastEvent: eventAt(record, record.lastSeq),
      }
    },

    read,

    async cancel(streamId) {
      const record = get(streamId)
      if (record.status === 'live') fireCancel(record)
    },

    onCancel(streamId, listener) {
      const record = streams.get(streamId)
      if (closed || !record || record.status === 'complete') return () => {}
      if (record.cancelled) {
        // The cancel came first; still honour it so the producer stops.
        queueMicrotask(listener)
        return () => {}
      }
      record.cancelListeners.add(listener)
      return () => record.cancelListeners.delete(listener)
    },

    async close() {
      if (closed) return
      closed = true
      for (const record of streams.values()) {
        if (record.timer !== undefined) clearTimeout(record.timer)
        record.cancelListeners.clear()
        wake(record)
      }
      streams.clear()
    },
  }
}

function expired(): UnbrokenServerError {
  return new UnbrokenServerError(
    'cursor-expired',
    'The events after this Last-Event-ID are no longer kept; start a new stream.',
  )
}

/** What an event counts against `maxBytes`: the UTF-8 bytes of its data and type. */
function sizeOf(data: string, event: string | undefined): number {
  return utf8Length(data) + (event ? utf8Length(event) : 0)
}

/** A duration a timer waits for: positive, and within what setTimeout can wait. */
function lifetime(name: string, value: number): number {
  return delay(name, positive(name, value))
}
