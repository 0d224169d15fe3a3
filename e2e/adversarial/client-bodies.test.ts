// Hostile stream bodies: decompression bombs, lines and events that never end, bytes that are not
// UTF-8. Every read must end, typed, with nothing twice and memory bounded by maxEventBytes.
import { once } from 'node:events'
import type { ServerResponse } from 'node:http'
import { createGzip } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { createHostileServer, DONE, numbered, openSse } from './client-hostile'

const hostile = createHostileServer()
const MiB = 1024 * 1024

/** Writes `piece` until `total` bytes went out or the client hung up; resolves with the count. */
const writeUntil = async (res: ServerResponse, piece: string, total: number) => {
  let written = 0
  while (written < total && !res.destroyed) {
    written += piece.length
    if (!res.write(piece)) await Promise.race([once(res, 'drain'), once(res, 'close')])
  }
  if (!res.destroyed) res.end()
  return written
}

describe('a body that never ends its event', () => {
  it('fails with event-too-large on one endless line, and stops reading it', async () => {
    let sent: Promise<number> | undefined
    const { error } = await hostile.read(
      (_, res) => {
        openSse(res)
        sent = writeUntil(res, `data: ${'x'.repeat(64 * 1024)}`, 512 * MiB)
      },
      { maxEventBytes: MiB },
    )
    expect(error).toMatchObject({ code: 'event-too-large' })
    expect(await sent).toBeLessThan(128 * MiB)
  })

  it('fails with event-too-large on data lines that never reach a blank line', async () => {
    const { error, events } = await hostile.read(
      (_, res) => {
        openSse(res)
        res.write(numbered(1, 2))
        void writeUntil(res, 'data: more\n'.repeat(1000), 64 * MiB)
      },
      { maxEventBytes: MiB },
    )
    expect(error).toMatchObject({ code: 'event-too-large' })
    expect(events.map((event) => event.data)).toEqual(['e1', 'e2'])
  })

  it('delivers what came before one event over the default 16 MiB, then fails', async () => {
    const { error, events } = await hostile.read((_, res) => {
      openSse(res)
      res.end(`${numbered(1, 1)}id: 2\ndata: ${'y'.repeat(17 * MiB)}\n\n${DONE}`)
    })
    expect(error).toMatchObject({ code: 'event-too-large' })
    expect(events.map((event) => event.data)).toEqual(['e1'])
  })

  it('fails with event-too-large on a 256 MB gzip bomb in a 200 stream', async () => {
    const { error } = await hostile.read(
      async (_, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'content-encoding': 'gzip' })
        const gzip = createGzip({ level: 1 })
        gzip.pipe(res)
        gzip.write('data: ')
        const zeros = '0'.repeat(MiB)
        for (let i = 0; i < 256 && !res.destroyed; i++)
          if (!gzip.write(zeros)) await Promise.race([once(gzip, 'drain'), once(res, 'close')])
        gzip.end()
      },
      { maxEventBytes: 4 * MiB },
    )
    expect(error).toMatchObject({ code: 'event-too-large' })
  })
})

describe('bytes that are not UTF-8', () => {
  it('become U+FFFD, as in a browser, and the stream carries on', async () => {
    const { events } = await hostile.read((_, res) => {
      openSse(res)
      res.write('id: 1\ndata: a')
      res.write(Buffer.from([0xff, 0xfe, 0xc3]))
      res.write('b\n\n')
      res.end(DONE)
    })
    expect(events.map((event) => event.data)).toEqual(['a\uFFFD\uFFFD\uFFFDb', '{}'])
  })

  it('ignore an id with NUL, keeping the last one', async () => {
    const { events } = await hostile.read((_, res) => {
      openSse(res)
      res.end(`${numbered(1, 1)}id: 2\0x\ndata: b\n\n${DONE}`)
    })
    expect(events.map((event) => [event.data, event.lastEventId])).toEqual([
      ['e1', '1'],
      ['b', '1'],
      ['{}', 'end'],
    ])
  })
})
