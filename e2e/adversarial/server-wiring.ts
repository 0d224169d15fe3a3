/**
 * The servers the core-server adversarial suite attacks, wired exactly as the server README shows:
 * `createServer((req, res) => streams.handle(req, res, producer))` over `createResumableStreams`
 * with its defaults, on the memory log or on a Redis log (one throwaway redis-server per file).
 */
import { randomUUID } from 'node:crypto'
import { createServer } from 'node:http'
import { createRedisEventLog } from '@unbroken/redis'
import {
  createMemoryEventLog,
  createResumableStreams,
  type EventLog,
  type NodeRequest,
  type Producer,
  type ResumableStreams,
  type ResumableStreamsOptions,
} from '@unbroken/server'
import { type Listening, listen, type RedisServer, startRedisServer } from '@unbroken/test-kit'
import { afterAll, afterEach, beforeAll } from 'vitest'

export type LogKind = 'memory' | 'redis'

export type WiredServer = Listening & {
  readonly streams: ResumableStreams
  readonly log: EventLog
  /** `${origin}${path}` */
  url(path: string): string
}

export type WiredOptions = Omit<ResumableStreamsOptions, 'log'> & {
  /** Options of the log itself (defaults otherwise, as in the READMEs). */
  readonly log?: {
    readonly maxEvents?: number
    readonly maxBytes?: number
    readonly ttlMs?: number
  }
}

/**
 * Registers a redis-server for the file (skipped where there is none, outside CI) and returns a
 * starter of README-wired servers on either log; everything started is closed after each test.
 */
export function wiredServers() {
  let redis: RedisServer | undefined
  const started: Array<() => Promise<void>> = []
  beforeAll(async () => {
    redis = await startRedisServer()
  }, 30_000)
  afterAll(async () => {
    await redis?.stop()
  })
  afterEach(async () => {
    for (const close of started.splice(0).reverse()) await close()
  })

  const createLog = (kind: LogKind, options: WiredOptions['log'] = {}): EventLog => {
    if (kind === 'memory') return createMemoryEventLog(options)
    if (!redis) throw new Error('redis-server is not available')
    return createRedisEventLog({
      url: redis.url,
      keyPrefix: `adversarial:${randomUUID()}:`,
      ...options,
    })
  }

  return {
    /** Whether `kind` can run here (a Redis log needs redis-server). */
    available: (kind: LogKind) => kind === 'memory' || redis !== undefined,
    createLog,
    async start(
      kind: LogKind,
      producer: Producer<NodeRequest> | undefined,
      options: WiredOptions = {},
    ): Promise<WiredServer> {
      const log = createLog(kind, options.log)
      const streams = createResumableStreams({ ...options, log })
      // As the README: the promise of `handle` is neither awaited nor caught.
      const server = await listen(createServer((req, res) => streams.handle(req, res, producer)))
      started.push(async () => {
        await server.close()
        await streams.close()
        await log.close()
      })
      return { ...server, streams, log, url: (path) => `${server.origin}${path}` }
    },
  }
}
