import type { IncomingMessage, RequestListener } from 'node:http'
import { getRequestListener, type HttpBindings } from '@hono/node-server'
import {
  createEventHub,
  createMemoryEventLog,
  createResumableStreams,
  type EventHub,
  type EventHubOptions,
  type EventLog,
  type Producer,
  type ResumableStreams,
  type ResumableStreamsOptions,
} from '@unbroken/server'
import { type Listening, listen } from '@unbroken/test-kit'
import { closeAfterResponse } from '../support/connection-close'

export type RegistryServer = Listening & {
  readonly registry: ResumableStreams
  readonly log: EventLog
  readonly hub: EventHub
  /** `${origin}/streams`: POST here to start a stream. */
  readonly streamsUrl: string
}

export type RegistryServerOptions = Omit<ResumableStreamsOptions, 'log' | 'hub'> & {
  readonly log?: EventLog
  readonly hub?: EventHubOptions
  /** The producer a POST starts. */
  readonly producer?: (req: IncomingMessage) => Producer | undefined
  /**
   * `node` serves through `registry.handle` (Node writer); `web` through `registry.fetch` behind
   * Hono's Node adapter, as a Fetch runtime would (Web `ReadableStream` writer). Default `node`.
   */
  readonly runtime?: 'node' | 'web'
}

/**
 * Our resumable-stream registry on node:http, in the test process: one server serves many
 * concurrent runs. Retry hints are 0 so that resumes are immediate, and keepalives are off unless
 * asked for, so byte offsets only count events.
 */
export async function startRegistryServer(
  options: RegistryServerOptions = {},
): Promise<RegistryServer> {
  const { producer, hub: hubOptions, runtime = 'node', ...rest } = options
  // Every run of a suite reads the same finished stream, so it must outlive the whole suite: 1,000
  // runs take 24 s on a quiet machine and over 90 s on a loaded one, where a 60 s TTL gave 404s.
  const log = options.log ?? createMemoryEventLog({ ttlMs: 30 * 60_000 })
  const hub = createEventHub({ retryMs: 0, keepAliveMs: 0, ...hubOptions })
  const registry = createResumableStreams({ ...rest, log, hub })
  const handler: RequestListener =
    runtime === 'node'
      ? (req, res) => void registry.handle(req, res, producer?.(req))
      : getRequestListener((request, env) =>
          registry.fetch(request, producer?.((env as HttpBindings).incoming)),
        )
  const server = await listen((req, res) => {
    closeAfterResponse(res)
    void handler(req, res)
  })
  return {
    ...server,
    registry,
    log,
    hub,
    streamsUrl: `${server.origin}/streams`,
    async close() {
      await hub.closeAll({ deadlineMs: 0 })
      await registry.close()
      await log.close()
      await server.close()
    },
  }
}
