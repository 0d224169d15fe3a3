import { randomUUID } from 'node:crypto'
import {
  assertEventInput,
  type EventInput,
  type EventLog,
  type StreamInfo,
  UnbrokenServerError,
} from '@unbroken/server'
import {
  type Connections,
  createConnections,
  type RedisClientLike,
  type RedisConnection,
  toLogError,
} from './connection'
import { eventBytes, eventOf } from './entries'
import { stateError } from './errors'
import { START_ID } from './ids'
import { createKeys, streamKeys } from './keys'
import { createOwnership } from './ownership'
import { readStream } from './reader'
import { runScript } from './scripts'
import { createTail, type Tail } from './tail'

/** How to reach Redis and how long streams live there. */
export interface RedisEventLogOptions {
  /** A node-redis v5 client to copy the connection settings from; the log uses duplicates. */
  readonly client?: RedisClientLike | undefined
  /** `redis://host:port` when no `client` is given. */
  readonly url?: string | undefined
  /** Prepended to every key; instances that share streams must use the same prefix. */
  readonly keyPrefix?: string | undefined
  /** How long a finished stream stays resumable. */
  readonly ttlMs?: number | undefined
  /** Events kept per stream; older ones are trimmed and their ids become expired cursors. */
  readonly maxEvents?: number | undefined
  /** UTF-8 bytes of `event` + `data` kept per stream; trimmed like `maxEvents`. */
  readonly maxBytes?: number | undefined
  /** Longest a stream may stay live; at this age it is cancelled and completed. */
  readonly maxStreamAgeMs?: number | undefined
  /** A producer silent this long (its process died) is declared lost to every reader. */
  readonly leaseMs?: number | undefined
  /** How long the first operation waits for the first connection. */
  readonly connectTimeoutMs?: number | undefined
}

/**
 * The same defaults as the memory log (retention by time: every event of a live stream until it
 * completes + `ttlMs`, under generous caps), plus the lease: lost producers surface within
 * ~1.5 × leaseMs.
 */
export const REDIS_LOG_DEFAULTS = {
  keyPrefix: 'unbroken:',
  maxEvents: 500_000,
  maxBytes: 32 * 1024 * 1024,
  ttlMs: 5 * 60_000,
  maxStreamAgeMs: 60 * 60_000,
  leaseMs: 5_000,
  connectTimeoutMs: 5_000,
} as const

const PAGE_SIZE = 500
const BLOCK_MS = 5_000
const MAX_BUFFERED = 5_000

/**
 * An `EventLog` on Redis Streams, shared by every server instance that points at the same Redis:
 * a stream produced on one instance can be resumed on any other. Ids are `0-<n>` stream ids.
 */
export function createRedisEventLog(options: RedisEventLogOptions): EventLog {
  if (!options.client && !options.url) {
    throw new UnbrokenServerError('invalid-argument', 'Pass `client` (node-redis v5) or `url`.')
  }
  const keyPrefix = options.keyPrefix ?? REDIS_LOG_DEFAULTS.keyPrefix
  const maxEvents = positive('maxEvents', options.maxEvents ?? REDIS_LOG_DEFAULTS.maxEvents)
  const maxBytes = positive('maxBytes', options.maxBytes ?? REDIS_LOG_DEFAULTS.maxBytes)
  const ttlMs = lifetime('ttlMs', options.ttlMs ?? REDIS_LOG_DEFAULTS.ttlMs)
  const maxStreamAgeMs = lifetime(
    'maxStreamAgeMs',
    options.maxStreamAgeMs ?? REDIS_LOG_DEFAULTS.maxStreamAgeMs,
  )
  const leaseMs = lifetime('leaseMs', options.leaseMs ?? REDIS_LOG_DEFAULTS.leaseMs)
  const connections: Connections = createConnections({
    client: options.client,
    url: options.url,
    connectTimeoutMs: lifetime(
      'connectTimeoutMs',
      options.connectTimeoutMs ?? REDIS_LOG_DEFAULTS.connectTimeoutMs,
    ),
  })
  const keys = createKeys(keyPrefix)
  const instanceId = randomUUID()
  let closed = false
  let tail: Tail | undefined

  /** Runs a Redis operation: `log-unavailable` after close or when Redis cannot be reached. */
  const guard = async <T>(work: (client: RedisConnection) => Promise<T>): Promise<T> => {
    if (closed)
      throw new UnbrokenServerError('log-unavailable', 'The event log was closed; try again.')
    try {
      return await work(await connections.command())
    } catch (error) {
      throw toLogError(error)
    }
  }

  const end = (streamId: string, reason: 'complete' | 'lost' | 'failed', ifLeaseGone = false) =>
    guard((client) =>
      runScript(client, 'END', streamKeys(keys, streamId), [
        reason,
        String(ttlMs),
        ifLeaseGone ? '1' : '0',
      ]),
    )

  const ownership = createOwnership({
    leaseMs,
    maxStreamAgeMs,
    heartbeat: (streamId) =>
      guard((client) =>
        runScript(client, 'HEARTBEAT', streamKeys(keys, streamId), [
          instanceId,
          String(leaseMs),
          String(leaseMs + ttlMs),
        ]),
      ),
    end,
    tailedStreams: () => tail?.streamIds() ?? [],
    complete: (streamId) => log.complete(streamId),
    onVanished: (streamId) => tail?.end('vanished', streamId),
    onUnreachable: () => tail?.end('unreachable'),
  })

  const getTail = (): Tail => {
    tail ??= createTail({
      connection: connections.blocking(),
      mailboxKey: keys.mailbox(instanceId),
      wake: () => mail(instanceId, { wake: '1' }),
      onMailbox: (message) => {
        if (message.cancel !== undefined) ownership.fireCancel(message.cancel)
      },
      keepRunning: ownership.busy,
      blockMs: BLOCK_MS,
      count: PAGE_SIZE,
      maxBuffered: MAX_BUFFERED,
    })
    return tail
  }

  /** Posts to an instance's mailbox, which its blocking tail always reads. */
  const mail = (toInstance: string, message: Record<string, string>) =>
    guard(async (client) => {
      const mailbox = keys.mailbox(toInstance)
      await Promise.all([
        client.xAdd(mailbox, '*', message, {
          TRIM: { strategy: 'MAXLEN', strategyModifier: '~', threshold: 100 },
        }),
        client.pExpire(mailbox, leaseMs + ttlMs),
      ])
    })

  const log: EventLog = {
    startId: START_ID,

    async create(streamId, meta = {}) {
      const result = await guard((client) =>
        runScript(client, 'CREATE', streamKeys(keys, streamId), [
          JSON.stringify(meta),
          instanceId,
          String(Date.now()),
          String(leaseMs),
          String(leaseMs + ttlMs),
        ]),
      )
      if (result === 'stream-exists') {
        throw new UnbrokenServerError('stream-exists', `Stream "${streamId}" already exists.`)
      }
      ownership.own(streamId)
      // The owner's tail must run to receive cancel requests from other instances.
      getTail().poke()
    },

    async append(streamId, input: EventInput) {
      assertEventInput(input)
      const fault = ownership.fault(streamId)
      if (fault) throw stateError(fault)
      const size = eventBytes(input.data, input.event)
      if (size > maxBytes) {
        throw new UnbrokenServerError(
          'stream-too-large',
          `An event of ${size} bytes exceeds maxBytes (${maxBytes}); split it or raise maxBytes.`,
        )
      }
      let result: string
      try {
        result = await guard((client) =>
          runScript(
            client,
            'APPEND',
            [keys.stream(streamId), keys.meta(streamId)],
            [
              input.data,
              input.event ?? '',
              input.event === undefined ? '0' : '1',
              String(size),
              String(maxEvents),
              String(maxBytes),
            ],
          ),
        )
      } catch (error) {
        // This event may or may not be stored; any later one would sit behind a hole. So the
        // stream stops here, and a `failed` marker is written as soon as Redis answers again.
        ownership.fail(streamId, 'failed')
        throw error
      }
      if (result.startsWith('0-')) return result
      if (result === 'unknown-stream' && ownership.owns(streamId)) {
        // Created here and never ended, yet gone: Redis lost it. Say so, rather than tell the
        // producer that made it "no such stream"; its readers are ended too.
        ownership.fail(streamId, 'vanished')
        throw stateError('vanished')
      }
      throw stateError(result)
    },

    async complete(streamId) {
      const fault = ownership.fault(streamId)
      // A failed stream is released once its `failed` marker is written; a vanished one now.
      if (fault === 'vanished') ownership.release(streamId)
      if (fault) throw stateError(fault)
      const result = await end(streamId, 'complete')
      if (result === 'ended' || result === 'complete') {
        ownership.release(streamId)
        return
      }
      throw stateError(result)
    },

    async info(streamId): Promise<StreamInfo | undefined> {
      const [fields, newest] = await guard((client) =>
        Promise.all([
          client.hGetAll(keys.meta(streamId)),
          client.xRevRange(keys.stream(streamId), '+', '-', { COUNT: 2 }),
        ]),
      )
      const status = fields.status
      if (status === undefined) return undefined
      return {
        // lost and failed streams are finished too; reading them says why.
        status: status === 'live' ? 'live' : 'complete',
        meta: JSON.parse(fields.meta ?? '{}') as Record<string, string>,
        lastEvent: newest
          .map((entry) => eventOf(entry.id, entry.message))
          .find((event) => event !== undefined),
      }
    },

    read(streamId, readOptions) {
      return readStream(
        {
          client: guardedReader(guard),
          keys,
          tail: getTail,
          pageSize: PAGE_SIZE,
          maxEvents,
          maxBytes,
        },
        streamId,
        readOptions,
      )
    },

    async cancel(streamId) {
      const owner = await guard((client) =>
        runScript(client, 'CANCEL', streamKeys(keys, streamId), [String(leaseMs + ttlMs)]),
      )
      if (owner === 'unknown-stream') throw stateError(owner)
      if (owner === '') return
      ownership.fireCancel(streamId)
      if (owner !== instanceId) await mail(owner, { cancel: streamId })
    },

    onCancel(streamId, listener) {
      if (closed) return () => {}
      const unsubscribe = ownership.onCancel(streamId, listener)
      // A cancel may have come from another instance before this listener: honour the flag.
      guard((client) => client.exists(keys.cancel(streamId))).then(
        (flagged) => {
          if (flagged) ownership.fireCancel(streamId)
        },
        () => {},
      )
      getTail().poke()
      return unsubscribe
    },

    async close() {
      if (closed) return
      closed = true
      ownership.close()
      tail?.close()
      await connections.close()
    },
  }
  return log
}

/** The reader's commands, each run through `guard` so that failures carry a log error code. */
function guardedReader(
  guard: <T>(work: (client: RedisConnection) => Promise<T>) => Promise<T>,
): Parameters<typeof readStream>[0]['client'] {
  return {
    hGet: (key, field) => guard((client) => client.hGet(key, field)),
    xRange: (key, start, end, options) =>
      guard((client) => client.xRange(key, start, end, options)),
    xRevRange: (key, end, start, options) =>
      guard((client) => client.xRevRange(key, end, start, options)),
  }
}

/** A limit: a positive finite number (the Lua scripts compute with it). */
function positive(name: string, value: number): number {
  if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) {
    throw new UnbrokenServerError('invalid-argument', `${name} must be a positive number.`)
  }
  return value
}

// setTimeout fires at once past 2^31 - 1 ms (about 24.8 days): no timer may ask for longer.
const MAX_DELAY_MS = 2 ** 31 - 1

/** A duration a timer waits for: positive, and within what setTimeout can wait. */
function lifetime(name: string, value: number): number {
  if (positive(name, value) > MAX_DELAY_MS) {
    throw new UnbrokenServerError(
      'invalid-argument',
      `${name} must be at most ${MAX_DELAY_MS} ms (a timer fires at once past it), got ${value}`,
    )
  }
  return value
}
