// Agreements A1–A3 over loopback: the cursor block, duplicates and restarts, the replay boundary.
import type { ServerResponse } from 'node:http'
import { describe, expect, it } from 'vitest'
import { formatEvent, type Handler, openStream, useServer } from '../test/server'
import type { EventStreamOptions } from './types'

const loopback = useServer()

const run = async (handler: Handler, options: EventStreamOptions = {}) => {
  const result = await loopback.read(handler, { backoff: { initialMs: 0 }, ...options })
  const data = result.items.map((event) => event.data)
  const cursors = result.server.requests.map((request) => request.lastEventId)
  return { ...result, data, cursors }
}

const numbered = (from: number, to: number) => {
  let wire = ''
  for (let id = from; id <= to; id++) wire += formatEvent({ id: `${id}`, data: `e${id}` })
  return wire
}
const done = formatEvent({ id: 'end', event: 'done', data: '{}' })

// The first connection sends events 1–3 and drops; `resumed` answers every later request.
const dropAfterThree =
  (resumed: (res: ServerResponse) => void): Handler =>
  (_, res, index) => {
    openStream(res)
    if (index === 0) res.end(numbered(1, 3))
    else resumed(res)
  }

describe('the cursor block (A1)', () => {
  it('gives a first connection that delivered nothing a cursor to resume with', async () => {
    const { cursors, data } = await run((_, res, index) => {
      openStream(res)
      res.end(index === 0 ? 'retry: 1000\n: ok\n\nid: 0\n\n' : `id: 0\n\n${numbered(1, 1)}${done}`)
    })
    expect(cursors).toEqual([undefined, '0'])
    expect(data).toEqual(['e1', '{}'])
  })

  it('takes the confirmation of the cursor on a resume and carries on', async () => {
    const { data, stream } = await run(
      dropAfterThree((res) => res.end(`id: 3\n\n${numbered(4, 5)}${done}`)),
    )
    expect(data).toEqual(['e1', 'e2', 'e3', 'e4', 'e5', '{}'])
    expect(stream.getSnapshot().closeReason).toBe('done')
  })
})

describe('duplicates and restarts (A2)', () => {
  it("drops a server's repeat of the cursor's own event", async () => {
    const { data, cursors } = await run(
      dropAfterThree((res) => res.end(`${numbered(3, 5)}${done}`)),
    )
    expect(cursors).toEqual([undefined, '3'])
    expect(data).toEqual(['e1', 'e2', 'e3', 'e4', 'e5', '{}'])
  })

  it('fails with resume-failed, repeating nothing, when the server restarts at the first event', async () => {
    const { data, error, server } = await run(
      dropAfterThree((res) => res.end(`${numbered(1, 5)}${done}`)),
    )
    expect(data).toEqual(['e1', 'e2', 'e3'])
    expect(error).toMatchObject({ code: 'resume-failed' })
    expect(error?.message).toMatch(/went back in the stream \(event 1 again\)/)
    expect(server.requests).toHaveLength(2)
  })

  it('fails with resume-failed when a server that went back to before the cursor reaches it', async () => {
    // Event 2 is a repeat the client cannot tell (ids are opaque); event 3, the cursor, tells it.
    const { data, error } = await run(dropAfterThree((res) => res.end(`${numbered(2, 5)}${done}`)))
    expect(data).toEqual(['e1', 'e2', 'e3', 'e2'])
    expect(error).toMatchObject({ code: 'resume-failed' })
    expect(error?.message).toMatch(/went back in the stream \(event 3 again\)/)
  })

  it('fails with resume-failed when the server answers a cursor from another position', async () => {
    const { data, error } = await run(
      dropAfterThree((res) => res.end(`id: 0\n\n${numbered(1, 5)}${done}`)),
    )
    expect(data).toEqual(['e1', 'e2', 'e3'])
    expect(error).toMatchObject({ code: 'resume-failed' })
    expect(error?.message).toMatch(/resumed from 0, not from the cursor 3/)
  })

  it("takes a plain server's id-only block after events without ids as a checkpoint", async () => {
    const { data, error, cursors } = await run(
      dropAfterThree((res) => res.end(`data: e4\n\nid: 4\n\n${numbered(5, 5)}${done}`)),
    )
    expect(error).toBeUndefined()
    expect(data).toEqual(['e1', 'e2', 'e3', 'e4', 'e5', '{}'])
    expect(cursors).toEqual([undefined, '3'])
  })

  it('keeps the position for events without ids after a resume, and gives them that id', async () => {
    const { items, cursors } = await run((_, res, index) => {
      openStream(res)
      if (index === 0) res.end(numbered(1, 1))
      else if (index === 1) res.end(formatEvent({ data: 'no id' }))
      else res.end(done)
    })
    expect(cursors).toEqual([undefined, '1', '1'])
    expect(items.map((event) => [event.data, event.lastEventId])).toEqual([
      ['e1', '1'],
      ['no id', '1'],
      ['{}', 'end'],
    ])
  })
})

describe('the replay boundary (A3)', () => {
  it('counts events up to Unbroken-Replay-Through as replayed, and no later ones', async () => {
    const { stream, data } = await run((_, res, index) => {
      if (index === 0) {
        openStream(res)
        return res.end(numbered(1, 2))
      }
      openStream(res, { 'unbroken-replay-through': '4' })
      res.end(`id: 2\n\n${numbered(3, 6)}${done}`)
    })
    expect(data).toEqual(['e1', 'e2', 'e3', 'e4', 'e5', 'e6', '{}'])
    expect(stream.getSnapshot()).toMatchObject({ events: 7, replayed: 2 })
  })

  it('matches a non-ASCII id, which the header carries as its UTF-8 bytes', async () => {
    const ids = ['é1', 'é2', 'é3']
    const { stream } = await run((_, res, index) => {
      if (index === 0) {
        openStream(res)
        return res.end(formatEvent({ id: 'é0', data: 'e0' }))
      }
      // As the server writes it (protocol §5): one character per UTF-8 byte. Not through
      // openStream: Node's flushHeaders() sends such a header UTF-8 encoded a second time.
      res.writeHead(200, {
        'content-type': 'text/event-stream',
        'unbroken-replay-through': Buffer.from('é2').toString('latin1'),
      })
      res.end(`id: é0\n\n${ids.map((id) => formatEvent({ id, data: id })).join('')}${done}`)
    })
    expect(stream.getSnapshot()).toMatchObject({ events: 5, replayed: 2 })
  })

  it('counts nothing as replayed without the header', async () => {
    const { stream } = await run(dropAfterThree((res) => res.end(`${numbered(4, 4)}${done}`)))
    expect(stream.getSnapshot()).toMatchObject({ events: 5, replayed: 0 })
  })
})
