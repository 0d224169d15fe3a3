import type { ServerResponse } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import { type Listening, listen } from './listen'
import { parseSse, readSse } from './sse'

describe('parseSse', () => {
  it('returns each dispatched block with the fields it carried', () => {
    expect(parseSse('id: 1\nevent: delta\ndata: a\n\ndata: b\n\n')).toEqual([
      { id: '1', event: 'delta', data: 'a' },
      { data: 'b' },
    ])
  })

  it('joins data lines with LF and strips one leading space', () => {
    expect(parseSse('data:  x\ndata\ndata: y\n\n')).toEqual([{ data: ' x\n\ny' }])
  })

  it('dispatches nothing for comments, an id-only block or a block left open at the end', () => {
    expect(parseSse(': hello\nretry: 1000\n\nid: 0\n\ndata: cut')).toEqual([])
  })

  it('accepts CRLF and CR line ends and a leading BOM', () => {
    expect(parseSse('\uFEFFdata: a\r\n\r\ndata: b\r\rdata: c\n\n')).toEqual([
      { data: 'a' },
      { data: 'b' },
      { data: 'c' },
    ])
  })

  it('ignores an id with NUL and an empty event type, as a browser does', () => {
    expect(parseSse('id: a\0b\nevent:\ndata: x\n\n')).toEqual([{ data: 'x' }])
  })
})

describe('readSse', () => {
  it('keeps a CR that ends a chunk until it knows whether LF follows', async () => {
    const chunks = ['data: a\r', '\ndata: b\r', '\n\r', '\n']
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const chunk of chunks) controller.enqueue(new TextEncoder().encode(chunk))
        controller.close()
      },
    })
    expect(await readSse(new Response(body)).rest()).toEqual([{ data: 'a\nb' }])
  })
})

describe('readSse over a loopback server', () => {
  let served: Listening | undefined
  afterEach(async () => {
    await served?.close()
    served = undefined
  })

  /** Writes `wire` one byte per write, so every line end and character is split across reads. */
  const byteByByte =
    (wire: string, end = true) =>
    (_req: unknown, res: ServerResponse) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      const bytes = Buffer.from(wire)
      let i = 0
      const next = (): void => {
        if (i < bytes.length) res.write(bytes.subarray(i, ++i), next)
        else if (end) res.end()
      }
      next()
    }

  it('reads events split at every byte, with CRLF and multi-byte text', async () => {
    served = await listen(
      byteByByte('id: 1\r\nevent: delta\r\ndata: é\r\ndata: 🦄\r\n\r\n: note\r\rdata: two\r\n\r\n'),
    )
    const events = await readSse(await fetch(served.origin)).rest()
    expect(events).toEqual([{ id: '1', event: 'delta', data: 'é\n🦄' }, { data: 'two' }])
  })

  it('takes events one at a time and reports a body that ends too early', async () => {
    served = await listen(byteByByte('data: 1\n\ndata: 2\n\n'))
    const reader = readSse(await fetch(served.origin))
    expect(await reader.next()).toEqual({ data: '1' })
    await expect(reader.take(2)).rejects.toThrow('stream ended after 1 of 2 events')
  })

  it('cancels the body when a for-await loop breaks, so the server sees the close', async () => {
    let closed: Promise<void> | undefined
    served = await listen((req, res) => {
      closed = new Promise((resolve) => res.on('close', resolve))
      byteByByte('data: 1\n\ndata: 2\n\n', false)(req, res)
    })
    for await (const event of readSse(await fetch(served.origin))) {
      expect(event).toEqual({ data: '1' })
      break
    }
    await closed
  })
})
