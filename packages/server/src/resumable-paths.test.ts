// Stream URLs under a mount: Express strips the mount from `req.url`, and the registry must still
// route, answer with the public `Content-Location`, and say what it tried when it cannot.
import { createServer } from 'node:http'
import { listen, readSse } from '@unbroken/test-kit'
import express from 'express'
import { afterEach, describe, expect, it } from 'vitest'
import { createResumableStreams } from './resumable'
import type { ResumableStreams, ResumableStreamsOptions } from './resumable-types'

const closers: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const close of closers.splice(0)) await close()
})

/** `streams` on an Express router mounted at `/api`, its producer sending `hello` then done. */
async function mounted(options: ResumableStreamsOptions = {}) {
  const streams = createResumableStreams(options)
  const router = express.Router()
  router.all('/{*path}', (req, res) => {
    void streams.handle(req, res, async (stream) => {
      await stream.send({ event: 'delta', data: 'hello' })
    })
  })
  const app = express()
  app.use('/api', router)
  const server = await listen(createServer(app))
  closers.push(server.close, () => streams.close())
  return { origin: server.origin, streams }
}

async function resume(origin: string, streams: ResumableStreams, location: string) {
  const response = await fetch(`${origin}${location}`)
  expect(response.status).toBe(200)
  expect(streams.active).toBeGreaterThanOrEqual(0)
  return (await readSse(response).rest()).map((event) => event.data)
}

describe('a registry on a router mounted at /api', () => {
  it('answers the POST with a Content-Location under the mount, which then resumes', async () => {
    const { origin, streams } = await mounted()
    const posted = await fetch(`${origin}/api/streams`, { method: 'POST' })
    const location = posted.headers.get('content-location') ?? ''
    expect(location).toMatch(/^\/api\/streams\/[A-Za-z0-9_-]{22}$/)
    await readSse(posted).rest()
    expect(await resume(origin, streams, location)).toEqual(['hello', '{}'])
  })

  it('serves a basePath that spells the mount out, /api/streams, the same way', async () => {
    const { origin, streams } = await mounted({ basePath: '/api/streams' })
    const posted = await fetch(`${origin}/api/chat`, { method: 'POST' })
    const location = posted.headers.get('content-location') ?? ''
    expect(location).toMatch(/^\/api\/streams\/[A-Za-z0-9_-]{22}$/)
    await readSse(posted).rest()
    expect(await resume(origin, streams, location)).toEqual(['hello', '{}'])
  })

  it('answers a resume of an unknown stream with a 404 that names the URL it tried', async () => {
    const { origin } = await mounted()
    const path = '/api/streams/AAAAAAAAAAAAAAAAAAAAAA'
    const response = await fetch(`${origin}${path}`)
    expect(response.status).toBe(404)
    const body = (await response.json()) as { code: string; message: string }
    expect(body.code).toBe('unknown-stream')
    expect(body.message).toContain(`No stream at ${path};`)
  })

  it('answers a path outside basePath with a 404 that says so, and where streams live', async () => {
    const { origin } = await mounted()
    const response = await fetch(`${origin}/api/other/AAAAAAAAAAAAAAAAAAAAAA`)
    expect(response.status).toBe(404)
    const { message } = (await response.json()) as { message: string }
    expect(message).toContain('No stream at /api/other/AAAAAAAAAAAAAAAAAAAAAA')
    expect(message).toContain('outside /api/streams/')
    expect(message).toContain('basePath "/streams" under the mount "/api"')
  })
})

describe('RouteOptions.mountPath, for routers whose request URL keeps the prefix', () => {
  it('reads basePath under the given mount, for POST and resume alike', async () => {
    const streams = createResumableStreams()
    const server = await listen((req, res) => {
      void streams.handle(req, res, (stream) => void stream.send({ data: 'hi' }), {
        mountPath: '/v1/',
      })
    })
    closers.push(server.close, () => streams.close())
    const posted = await fetch(`${server.origin}/v1/streams`, { method: 'POST' })
    const location = posted.headers.get('content-location') ?? ''
    expect(location).toMatch(/^\/v1\/streams\/[A-Za-z0-9_-]{22}$/)
    await readSse(posted).rest()
    expect(await resume(server.origin, streams, location)).toEqual(['hi', '{}'])
  })

  it('refuses a basePath without a leading slash at creation', () => {
    expect(() => createResumableStreams({ basePath: 'streams' })).toThrow(/must start with "\/"/)
  })
})
