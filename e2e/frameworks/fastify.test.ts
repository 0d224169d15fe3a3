// @unbroken/server/fastify inside real Fastify 5, registered with prefix /api, through a cut.
import { createResumableStreams } from '@unbroken/server'
import { createStreamsPlugin } from '@unbroken/server/fastify'
import Fastify, { type FastifyRequest } from 'fastify'
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
  const app = Fastify()
  const plugin = createStreamsPlugin(streams, (stream, request: FastifyRequest) =>
    sendTokens(stream, (request.body as { prompt?: unknown }).prompt),
  )
  await app.register(plugin, { prefix: '/api' })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const address = app.server.address()
  if (address === null || typeof address === 'string') throw new Error('no port')
  const proxy = await cuttingProxy(address.port)
  closers.push(
    () => streams.close(),
    () => app.close(),
    proxy.close,
  )
  return { origin: `http://127.0.0.1:${address.port}`, proxy }
}

it('resumes a stream cut mid-way, in a plugin registered with prefix /api', async () => {
  const { proxy } = await start()
  await chatThroughCut(proxy, '/api/streams')
})

it('resumes the same way with basePath spelling the prefix out', async () => {
  const { proxy } = await start('/api/streams')
  await chatThroughCut(proxy, '/api/streams')
})

it('answers the CORS preflight of a cross-origin POST', async () => {
  const { origin } = await start()
  await expectPreflight(origin, '/api/streams')
})
