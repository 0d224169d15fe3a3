/**
 * Issue 9 #13: default retention holds a whole long answer. A producer that does not wait (a
 * cached answer, a fast upstream) bursts 50,000 events (20,000 on Redis) while the live reader drains its socket
 * slowly; with the logs' defaults the reader gets every event, in order, then `done`, never a
 * `cursor-expired` for having fallen behind a stream that is still kept in full.
 */
import { request } from 'node:http'
import { parseSse } from '@unbroken/test-kit'
import { describe, expect, it } from 'vitest'
import { type LogKind, wiredServers } from './server-wiring'

const servers = wiredServers()
// Both far past the old default cap of 10,000 events; Redis appends cost a round trip of CPU
// each, so its burst stays smaller to keep the file within seconds on a shared machine.
const BURST: Record<LogKind, number> = { memory: 50_000, redis: 20_000 }
// ~100 bytes a frame: 5 MB in all, more than loopback's socket buffers hold, so the relay really
// waits for this reader while the producer has long finished.
const delta = (i: number) => JSON.stringify({ text: `token ${i} `.padEnd(64, '.') })

/** POSTs and reads the body 16 KiB every 5 ms (~3 MB/s): a reader slower than the burst. */
function readSlowly(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST' }, (response) => {
      const chunks: Buffer[] = []
      const timer = setInterval(() => {
        for (let chunk = response.read(16 * 1024); chunk !== null; chunk = null) chunks.push(chunk)
      }, 5)
      response.on('end', () => {
        clearInterval(timer)
        resolve(Buffer.concat(chunks).toString('utf8'))
      })
      response.on('error', (error) => {
        clearInterval(timer)
        reject(error)
      })
    })
    req.on('error', reject)
    req.end()
  })
}

describe.each<LogKind>(['memory', 'redis'])('a burst of events, %s log', (kind) => {
  const EVENTS = BURST[kind]
  it(`reaches a slow live reader whole (${BURST[kind]} events), then done`, {
    timeout: 90_000,
  }, async (context) => {
    if (!servers.available(kind)) return context.skip('no redis-server')
    const server = await servers.start(kind, async (stream) => {
      const sends: Promise<string>[] = []
      for (let i = 0; i < EVENTS; i++) sends.push(stream.send({ event: 'delta', data: delta(i) }))
      await Promise.all(sends)
    })
    const events = parseSse(await readSlowly(server.url('/streams')))
    expect(events.at(-1)).toMatchObject({ event: 'done', data: '{}' })
    const deltas = events.filter((e) => e.event === 'delta')
    expect(deltas.length).toBe(EVENTS)
    expect(deltas.every((e, i) => e.data === delta(i))).toBe(true)
  })
})
