/**
 * Issue 9 #2: events bigger than the writer's high-water mark (1 MiB). One large frame is not a
 * slow client, so three 1.5 MiB events reach the client on the POST and on a resume, with both
 * logs, and the POST's opening (with `Content-Location`) always arrives.
 */
import { readSse, waitFor } from '@unbroken/test-kit'
import { describe, expect, it } from 'vitest'
import { type LogKind, wiredServers } from './server-wiring'

const servers = wiredServers()
const LARGE = 1.5 * 1024 * 1024
const bodies = ['a', 'b', 'c'].map((fill) => fill.repeat(LARGE))

describe.each<LogKind>(['memory', 'redis'])('three 1.5 MiB events, %s log', (kind) => {
  const start = async () => {
    const server = await servers.start(kind, async (stream) => {
      for (const data of bodies) await stream.send({ event: 'blob', data })
    })
    return server
  }

  it('delivers them on the POST, then done', { timeout: 60_000 }, async (context) => {
    if (!servers.available(kind)) return context.skip('no redis-server')
    const server = await start()
    const response = await fetch(server.url('/streams'), { method: 'POST' })
    expect(response.headers.get('content-location')).toMatch(/^\/streams\//)
    const events = await readSse(response).rest()
    expect(events.map((e) => [e.event, e.data.length])).toEqual([
      ['blob', LARGE],
      ['blob', LARGE],
      ['blob', LARGE],
      ['done', 2],
    ])
    expect(events.slice(0, 3).map((e) => e.data)).toEqual(bodies)
  })

  it('delivers them on a resume from the cursor block', { timeout: 60_000 }, async (context) => {
    if (!servers.available(kind)) return context.skip('no redis-server')
    const server = await start()
    const posted = await fetch(server.url('/streams'), { method: 'POST' })
    const location = posted.headers.get('content-location') ?? ''
    await posted.body?.cancel()
    const id = location.split('/').pop() ?? ''
    await waitFor(async () => (await server.log.info(id))?.status === 'complete', {
      timeoutMs: 30_000,
    })
    const resumed = await fetch(server.url(location), {
      headers: { 'Last-Event-ID': server.log.startId },
    })
    expect(resumed.status).toBe(200)
    const events = await readSse(resumed).rest()
    expect(events.map((e) => e.data)).toEqual([...bodies, '{}'])
  })
})
