// @unbroken/server/hono inside real Hono on @hono/node-server, in a sub-app routed at /api,
// through a cut.
import type { Server } from 'node:http'
import { createAdaptorServer } from '@hono/node-server'
import { createResumableStreams } from '@unbroken/server'
import { createStreamsHandler } from '@unbroken/server/hono'
import { listen } from '@unbroken/test-kit'
import { type Context, Hono } from 'hono'
import { afterEach, it } from 'vitest'
import {
  chatThroughCut,
  cuttingProxy,
  expectPreflight,
  REGISTRY_OPTIONS,
  sendTokens,
} from './scenario'

const closers: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close()
})

async function start(basePath?: string) {
  const streams = createResumableStreams({
    ...REGISTRY_OPTIONS,
    basePath,
    allowOrigin: 'https://app.example',
  })
  const handler = createStreamsHandler(
    streams,
    async (stream, c: Context) =>
      sendTokens(stream, ((await c.req.json()) as { prompt?: unknown }).prompt),
    { mountPath: '/api' },
  )
  const api = new Hono()
  api.all('/streams', handler)
  api.all('/streams/*', handler)
  const app = new Hono()
  app.route('/api', api)
  const server = await listen(createAdaptorServer({ fetch: app.fetch }) as Server)
  const proxy = await cuttingProxy(server.port)
  closers.push(() => streams.close(), server.close, proxy.close)
  return { server, proxy }
}

it('resumes a stream cut mid-way, in a sub-app routed at /api', async () => {
  const { proxy } = await start()
  await chatThroughCut(proxy, '/api/streams')
})

it('resumes the same way with basePath spelling the mount out', async () => {
  const { proxy } = await start('/api/streams')
  await chatThroughCut(proxy, '/api/streams')
})

it('answers the CORS preflight of a cross-origin POST', async () => {
  const { server } = await start()
  await expectPreflight(server.origin, '/api/streams')
})
