// @unbroken/server/express inside real Express 5, on a router mounted at /api, through a cut.
import { createServer } from 'node:http'
import { createResumableStreams } from '@unbroken/server'
import { createStreamsMiddleware } from '@unbroken/server/express'
import { listen } from '@unbroken/test-kit'
import express, { type Request } from 'express'
import { afterEach, expect, it } from 'vitest'
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
  const router = express.Router()
  router.use(express.json())
  router.use(
    createStreamsMiddleware(streams, (stream, req: Request) =>
      sendTokens(stream, (req.body as { prompt?: unknown }).prompt),
    ),
  )
  router.get('/health', (_req, res) => void res.send('ok'))
  const app = express()
  app.use('/api', router)
  const server = await listen(createServer(app))
  const proxy = await cuttingProxy(server.port)
  closers.push(() => streams.close(), server.close, proxy.close)
  return { server, proxy }
}

it('resumes a stream cut mid-way, under app.use("/api", router)', async () => {
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

it('passes every other request on to the next handler', async () => {
  const { server } = await start()
  expect(await (await fetch(`${server.origin}/api/health`)).text()).toBe('ok')
})
