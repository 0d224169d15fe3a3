// What the proxy adds for the demo app, in front of its own routes: the built app's files
// (`--static-dir`) and the network controls (`--demo-controls on`). Both are opt-in; with neither
// set the proxy never builds this.
import type { HttpBindings } from '@hono/node-server'
import { serveStatic } from '@hono/node-server/serve-static'
import { Hono } from 'hono'
import { z } from 'zod'
import { errorResponse } from '../app'
import type { UpstreamKind } from '../config'
import { ProxyError } from '../errors'
import type { Logger } from '../logger'
import { describeIssues } from '../request'
import type { DemoNetwork } from './network'

/** The header that names the demo client (one browser tab) a stream request belongs to. */
export const DEMO_CLIENT_HEADER = 'x-demo-client'

export interface DemoAppOptions {
  /** The proxy's own app: everything the demo part does not answer goes there. */
  readonly proxy: { fetch(request: Request, env: HttpBindings): Response | Promise<Response> }
  /** Serve the files of this directory (the built demo) at `/`. */
  readonly staticDir: string | undefined
  /** The network controls, when `--demo-controls on`. */
  readonly network: DemoNetwork | undefined
  /** Shown to the app, which offers the simulated model's faults only where they exist. */
  readonly upstream: UpstreamKind
  readonly logger: Logger
}

const client = z.string().regex(/^[\w-]{8,64}$/, 'letters, digits, _ and -, 8–64 long')
// Bounds keep a typo from freezing the tab (1 B/s) or spinning the server (a drop every 1 ms).
const conditions = z
  .object({
    flakyEveryMs: z.number().int().min(500).max(600_000).optional(),
    bytesPerSecond: z.number().int().min(16).max(100_000_000).optional(),
  })
  .strict()

// Vite's build puts content-hashed files under /assets/: they never change under their name.
const IMMUTABLE = /^\/assets\//

export function createDemoApp(options: DemoAppOptions): Hono<{ Bindings: HttpBindings }> {
  const { network, proxy } = options
  const app = new Hono<{ Bindings: HttpBindings }>()

  if (network) {
    app.get('/demo/info', (c) => c.json({ upstream: options.upstream, controls: true }))

    app.put('/demo/clients/:client/network', async (c) => {
      const id = parse(client, c.req.param('client'))
      const body = parse(conditions, await c.req.json().catch(() => undefined))
      network.set(id, body)
      return c.json(network.conditions(id))
    })

    app.post('/demo/clients/:client/drop', (c) => {
      const id = parse(client, c.req.param('client'))
      return c.json({ dropped: network.drop(id) })
    })

    // Stream responses of a demo client go through its network. The proxy answers first; only a
    // live event stream is carried (errors and 204s pass untouched).
    app.on(['POST', 'GET'], ['/v1/streams', '/v1/streams/*'], async (c) => {
      const response = await proxy.fetch(c.req.raw, c.env)
      const id = c.req.header(DEMO_CLIENT_HEADER)
      const { socket } = c.env.incoming
      if (
        id === undefined ||
        !client.safeParse(id).success ||
        !response.body ||
        !response.headers.get('content-type')?.startsWith('text/event-stream')
      ) {
        return response
      }
      return new Response(network.carry(id, socket, response.body), response)
    })
  }

  if (options.staticDir) {
    app.get(
      '*',
      serveStatic({
        root: options.staticDir,
        onFound: (_path, c) => {
          c.header(
            'Cache-Control',
            IMMUTABLE.test(c.req.path) ? 'public, max-age=31536000, immutable' : 'no-cache',
          )
        },
      }),
    )
  }

  app.all('*', (c) => proxy.fetch(c.req.raw, c.env))
  app.onError((error) => {
    if (!(error instanceof ProxyError)) options.logger.error({ err: error }, 'demo request failed')
    return errorResponse(error)
  })
  return app
}

function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value)
  if (parsed.success) return parsed.data
  throw new ProxyError('invalid-request', describeIssues(parsed.error))
}
