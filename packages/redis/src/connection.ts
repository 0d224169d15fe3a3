import { UnbrokenServerError } from '@unbroken/server'
import { createClient } from 'redis'

/** The node-redis client type this package talks to (RESP2 replies, default modules). */
export type RedisConnection = ReturnType<typeof createClient>

/** Any node-redis v5 client; the log only calls `duplicate()` on it. */
export interface RedisClientLike {
  duplicate(overrides?: object): unknown
}

/** CLIENT SETNAME of the log's connections, so `CLIENT LIST` shows what each one is for. */
export const CLIENT_NAMES = { command: 'unbroken-log', tail: 'unbroken-tail' } as const

export interface ConnectionOptions {
  readonly client?: RedisClientLike | undefined
  readonly url?: string | undefined
  readonly connectTimeoutMs: number
}

export interface Connections {
  /** Resolves to the command connection, connecting it on first use. */
  command(): Promise<RedisConnection>
  /** A new connection for blocking reads (keeps node-redis's offline queue: it just waits). */
  blocking(): RedisConnection
  close(): Promise<void>
}

/**
 * The log always owns its connections, even when given a client: it duplicates it, so that it
 * can turn off the offline queue (an append during an outage must fail now, not be replayed later
 * behind the producer's back) and force RESP2 reply shapes, without touching the caller's client.
 */
export function createConnections(options: ConnectionOptions): Connections {
  const fresh = (overrides: object): RedisConnection => {
    const connection = (
      options.client
        ? options.client.duplicate({ RESP: 2, ...overrides })
        : createClient({ url: options.url, RESP: 2, ...overrides })
    ) as RedisConnection
    // node-redis emits 'error' on every failed (re)connect; without a listener Node would crash.
    connection.on('error', () => {})
    return connection
  }
  const opened: RedisConnection[] = []
  let command: RedisConnection | undefined
  let connecting: Promise<unknown> = Promise.resolve()
  let everReady = false
  let versionChecked = false
  let checkingVersion: Promise<void> | undefined

  return {
    async command() {
      if (!command) {
        command = fresh({ disableOfflineQueue: true, name: CLIENT_NAMES.command })
        command.on('ready', () => {
          everReady = true
        })
        opened.push(command)
        connecting = command.connect()
        connecting.catch(() => {})
      }
      // Once connected, an outage makes commands fail at once (offline queue off). Before the
      // first connect, connect() retries for ever, so callers wait a bounded time for it.
      if (!everReady) await within(connecting, options.connectTimeoutMs)
      if (!versionChecked) {
        const connection = command
        checkingVersion ??= connection.info('server').then(
          (info) => {
            requireRedis7(info)
            versionChecked = true
          },
          (error: unknown) => {
            // A dropped connection is asked again next time; only an old server sticks.
            checkingVersion = undefined
            throw error
          },
        )
        await checkingVersion
      }
      return command
    },
    blocking() {
      const connection = fresh({ name: CLIENT_NAMES.tail })
      opened.push(connection)
      connection.connect().catch(() => {})
      return connection
    },
    async close() {
      await Promise.all(
        opened.splice(0).map(async (connection) => {
          if (connection.isReady) await connection.close().catch(() => connection.destroy())
          else if (connection.isOpen) connection.destroy()
        }),
      )
    },
  }
}

/**
 * `XADD key 0-*`, which numbers a stream's entries 1, 2, 3… (the ids' gap-free proof), needs
 * Redis 7.0. An older server would answer "ERR Invalid stream ID" to every create, which looks
 * like a retryable outage; refusing once, by version, says what to fix.
 */
function requireRedis7(info: string): void {
  const version = /^redis_version:(\S+)/m.exec(info)?.[1]
  const major = Number(version?.split('.')[0])
  // A server that reports no version (a proxy) is given the benefit of the doubt.
  if (version === undefined || !(major < 7)) return
  // Not retryable: no later attempt fixes the server's version. onError shows the message.
  throw new UnbrokenServerError(
    'log-unavailable',
    `The event log cannot run on Redis ${version}: it needs Redis 7.0 or later (for XADD key 0-*).`,
    { retryable: false },
  )
}

async function within(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no connection within ${ms} ms`)), ms)
  })
  try {
    await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** Every Redis-side failure is `log-unavailable` (retryable); the log's own errors pass through. */
export function toLogError(error: unknown): UnbrokenServerError {
  if (UnbrokenServerError.isInstance(error)) return error
  // The client reads the message; Redis's own words stay in `cause`, for `onError`.
  return new UnbrokenServerError('log-unavailable', 'The event log is unavailable; try again.', {
    cause: error,
  })
}
