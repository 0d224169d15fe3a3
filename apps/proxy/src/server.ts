// Builds the proxy from a validated configuration, serves it on @hono/node-server, and winds it
// down gracefully. Everything the routes use is created here, once.
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import { createRedisEventLog } from '@unbroken/redis'
import {
  createEventHub,
  createMemoryEventLog,
  createResumableStreams,
  type EventLog,
} from '@unbroken/server'
import type { DestinationStream } from 'pino'
import { createApp, STREAMS_PATH } from './app'
import { createTokenAuth } from './auth'
import type { Config } from './config'
import { createDemoApp } from './demo/app'
import { createDemoNetwork } from './demo/network'
import { createSdkStreams } from './formats/sdk-stream'
import { createLogger } from './logger'
import { createMetrics } from './metrics'
import { createStreamProducers } from './producer'
import { createUpstream } from './upstreams'

/** Test and embedding hooks; the command line uses none of them. */
export interface ProxyOptions {
  /** Where JSON log lines go. Default: stdout. */
  readonly logDestination?: DestinationStream | undefined
  /** The event log, instead of the one the configuration names (tests act on it directly). */
  readonly eventLog?: EventLog | undefined
}

/** A listening proxy. */
export interface RunningProxy {
  /** `http://host:port`, with the port actually bound. */
  readonly url: string
  /**
   * Graceful stop (SIGTERM): refuse new streams with 503, let running generations finish into
   * the log for up to `--shutdown-grace`, stop the rest, then close connections and the log.
   */
  shutdown(): Promise<void>
}

// The writer's default lead before a token expires, shortened for tokens that live only seconds.
const AUTH_LEAD_MS = 5000
// Clients told to reconnect during a drain spread over this much time, so they do not all come back
// at once.
const DRAIN_JITTER_MS = 2000
// The log's own age limit must never cut a stream before `--max-duration` does.
const LOG_AGE_MARGIN_MS = 60_000

export async function startProxy(
  config: Config,
  options: ProxyOptions = {},
): Promise<RunningProxy> {
  const logger = createLogger(config.logLevel, options.logDestination)
  const maxStreamAgeMs = config.maxDuration + LOG_AGE_MARGIN_MS
  const log: EventLog =
    options.eventLog ??
    (config.redisUrl
      ? createRedisEventLog({ url: config.redisUrl, ttlMs: config.streamTtl, maxStreamAgeMs })
      : createMemoryEventLog({ ttlMs: config.streamTtl, maxStreamAgeMs }))
  const hub = createEventHub({
    keepAliveMs: config.keepalive,
    drainTimeoutMs: config.drainTimeout,
    authLeadMs: Math.min(AUTH_LEAD_MS, Math.floor(config.tokenTtl / 4)),
  })
  const auth = config.tokenSecret ? createTokenAuth(config.tokenSecret, config.tokenTtl) : undefined
  const streams = createResumableStreams({
    log,
    hub,
    basePath: STREAMS_PATH,
    ...(auth && {
      // The route verified the same request (`raw`) already: these reuse its claims.
      principal: async (request) =>
        (await auth.authenticate(request.raw, request.header('authorization'))).subject,
      expiresAt: async (request) =>
        (await auth.authenticate(request.raw, request.header('authorization'))).expiresAt,
    }),
    maxConcurrentStreams: config.maxStreams,
    allowOrigin: config.corsOrigin,
    onError: (error, streamId) => logger.error({ err: error, streamId }, 'stream failed'),
  })
  const upstream = createUpstream(config)
  const metrics = createMetrics(hub)
  const producers = createStreamProducers({
    upstream,
    limits: { idleTimeoutMs: config.upstreamIdleTimeout, maxDurationMs: config.maxDuration },
    metrics,
    logger,
    keepaliveMs: config.keepalive,
  })
  const sdkStreams = createSdkStreams({
    streams,
    log,
    hub,
    logger,
    webResponses: config.demoControls,
  })
  let draining = false
  const app = createApp({
    upstream,
    streams,
    sdkStreams,
    producers,
    auth,
    mintKey: config.tokenMintKey,
    corsOrigin: config.corsOrigin,
    metrics,
    logger,
    webResponses: config.demoControls,
    lifecycle: {
      get draining() {
        return draining
      },
      logReady: () =>
        log.info('readiness-probe').then(
          () => true,
          () => false,
        ),
    },
  })

  const network = config.demoControls ? createDemoNetwork(logger) : undefined
  if (network)
    logger.warn('demo network controls are on: anyone who reaches this port can cut streams')
  const demo =
    network || config.staticDir
      ? createDemoApp({
          proxy: app,
          staticDir: config.staticDir,
          network,
          upstream: upstream.kind,
          logger,
        })
      : undefined
  const server = serve({
    fetch: (demo ?? app).fetch,
    hostname: config.host,
    port: config.port,
  })
  await Promise.race([
    once(server, 'listening'),
    once(server, 'error').then(([error]) => Promise.reject(error)),
  ])
  const { port } = server.address() as AddressInfo
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`
  logger.info(
    {
      url,
      port,
      upstream: upstream.kind,
      model: upstream.defaultModel,
      log: config.redisUrl ? 'redis' : 'memory',
      auth: auth ? 'tokens' : 'open',
    },
    'proxy listening',
  )

  let stopping: Promise<void> | undefined
  const stop = async () => {
    draining = true
    const graceEnds = Date.now() + config.shutdownGrace
    logger.info({ running: producers.running, graceMs: config.shutdownGrace }, 'draining')
    // Agreement A7: new streams get 503, connected clients are told to reconnect (elsewhere, with
    // Redis; here again, with the memory log, which still serves them), running generations
    // finish into the log until the grace ends, and what remains ends with `producer-lost`.
    await streams.drain({ deadlineMs: config.shutdownGrace, retryJitterMs: DRAIN_JITTER_MS })
    // The registry is idle once every terminal event is logged; each producer still writes its
    // accounting record after that, and "proxy stopped" must come after the last record.
    await producers.settled()
    // An SDK's answer ends with its stream; its last events may still be on their way (megabytes
    // on a slow link): they get what is left of the grace, and at least the reconnect jitter.
    await sdkStreams.settled(Math.max(DRAIN_JITTER_MS, graceEnds - Date.now()))
    await hub.closeAll({ reason: 'shutdown', deadlineMs: DRAIN_JITTER_MS })
    network?.close()
    server.close()
    await log.close()
    logger.info('proxy stopped')
  }
  return {
    url,
    shutdown: () => {
      stopping ??= stop()
      return stopping
    },
  }
}
