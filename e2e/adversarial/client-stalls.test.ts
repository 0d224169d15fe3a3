// Servers that go silent: before the headers, after them, in the middle of an event. The reader
// must notice (headers timeout, idle watchdog), resume from the last whole event, and never hang.
import type { RequestListener, ServerResponse } from 'node:http'
import { describe, expect, it } from 'vitest'
import { createHostileServer, DONE, numbered, openSse } from './client-hostile'

const hostile = createHostileServer()

// Generous for a loaded machine, short enough for a bounded test.
const timeouts = { headersTimeoutMs: 800, idleTimeoutMs: 800 }

/** The first request gets `stall`; later ones events 2–3 and `done`. Records each cursor sent. */
const stallOnce = (stall: (res: ServerResponse) => void) => {
  const cursors: Array<string | string[] | undefined> = []
  const handler: RequestListener = (req, res) => {
    cursors.push(req.headers['last-event-id'])
    if (cursors.length === 1) return stall(res)
    openSse(res)
    res.end(numbered(2, 3) + DONE)
  }
  return { handler, cursors }
}

describe('a server that stalls', () => {
  it('before the headers: headers-timeout, then a retry', async () => {
    const { events, retried } = await hostile.read(stallOnce(() => {}).handler, timeouts)
    expect(retried).toEqual(['headers-timeout'])
    expect(events.map((event) => event.data)).toEqual(['e2', 'e3', '{}'])
  })

  it('after the headers, before a byte: idle-timeout, then a resume', async () => {
    const { retried } = await hostile.read(stallOnce((res) => openSse(res)).handler, timeouts)
    expect(retried).toEqual(['idle-timeout'])
  })

  it('in the middle of an event: the half event is dropped and the resume starts after the last whole one', async () => {
    const { handler, cursors } = stallOnce((res) => {
      openSse(res)
      res.write(`${numbered(1, 1)}id: 2\ndata: hal`)
    })
    const { events, retried } = await hostile.read(handler, timeouts)
    expect(retried).toEqual(['idle-timeout'])
    expect(cursors).toEqual([undefined, '1'])
    expect(events.map((event) => event.data)).toEqual(['e1', 'e2', 'e3', '{}'])
  })

  it('before the headers on every attempt: retries run out, bounded', async () => {
    const { error, retried } = await hostile.read(() => {}, { ...timeouts, maxAttempts: 2 })
    expect(error).toMatchObject({ code: 'retries-exhausted', cause: { code: 'headers-timeout' } })
    expect(retried).toEqual(['headers-timeout'])
  })

  it('a keyless POST before the headers: not sent again, and the error says so', async () => {
    let requests = 0
    const { error } = await hostile.read(
      () => {
        requests++
      },
      { ...timeouts, method: 'POST', idempotencyKey: false },
    )
    expect(error).toMatchObject({ code: 'headers-timeout', status: undefined })
    expect(error?.message).toMatch(/not sent again, so nothing ran twice/)
    expect(requests).toBe(1)
  })
})
