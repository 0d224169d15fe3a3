import { request, type ServerResponse } from 'node:http'
import { connect } from 'node:net'
import { type Listening, listen, parseSse } from '@unbroken/test-kit'
import { afterEach, describe, expect, it } from 'vitest'
import { createEventHub } from './hub'
import { aborted, dispatchEveryBlock, openStream } from './test-helpers'
import type { EventWriter, EventWriterOptions } from './types'

let server: Listening | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

/** Serves one stream per request and hands the writer (and raw response) to the test. */
async function serve(
  run: (writer: EventWriter, res: ServerResponse) => void | Promise<void>,
  hub = createEventHub(),
): Promise<Listening> {
  server = await listen((req, res) => {
    void run(hub.node(req, res, { headers: { 'Content-Location': '/streams/s1' } }), res)
  })
  return server
}

describe('node writer: opening', () => {
  it('sets the protocol headers on HTTP/1.1, including Connection and extra headers', async () => {
    const { origin } = await serve((writer) => writer.end())
    const client = await openStream(origin)
    expect(client.response.statusCode).toBe(200)
    expect(client.response.headers).toMatchObject({
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      'x-accel-buffering': 'no',
      connection: 'keep-alive',
      'content-location': '/streams/s1',
    })
  })

  it.each([
    ['close', 'HTTP/1.1 that asks to close', '1.1', 'Connection: close\r\n'],
    ['close', 'HTTP/1.0, which can end a stream only by closing', '1.0', ''],
    ['close', 'HTTP/1.0 even when it asks to keep alive', '1.0', 'Connection: keep-alive\r\n'],
    ['keep-alive', 'HTTP/1.1 by default', '1.1', ''],
  ])('answers Connection: %s to %s', async (expected, _, version, header) => {
    const { port } = await serve((writer) => writer.end())
    const head = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.write(`GET / HTTP/${version}\r\nHost: 127.0.0.1\r\n${header}\r\n`)
      })
      let received = ''
      socket.setEncoding('latin1')
      socket.on('data', (chunk: string) => {
        received += chunk
      })
      socket.on('end', () => resolve(received.slice(0, received.indexOf('\r\n\r\n'))))
      socket.on('error', reject)
      if (expected === 'keep-alive') {
        // The server keeps this connection: stop reading once the headers are in.
        socket.on('data', () => {
          if (received.includes('\r\n\r\n')) {
            socket.destroy()
            resolve(received.slice(0, received.indexOf('\r\n\r\n')))
          }
        })
      }
    })
    expect(head.toLowerCase().match(/^connection: (.*)$/gm)).toEqual([`connection: ${expected}`])
  })

  it('sends the retry hint and a comment before any event exists', async () => {
    const { origin } = await serve(() => {})
    const client = await openStream(origin)
    expect(await client.waitFor('retry: 1000\n')).toMatchInlineSnapshot(`
      ": ok
      retry: 1000
      "
    `)
    client.destroy()
  })

  it('turns off Nagle on the socket, so small token writes are not held back', async () => {
    const hub = createEventHub()
    const calls: unknown[] = []
    server = await listen((req, res) => {
      const setNoDelay = req.socket.setNoDelay.bind(req.socket)
      req.socket.setNoDelay = (noDelay?: boolean) => {
        calls.push(noDelay)
        return setNoDelay(noDelay)
      }
      void hub.node(req, res).end()
    })
    await (await openStream(server.origin)).ended()
    expect(calls).toEqual([true])
  })

  it('exposes Last-Event-ID from the request', async () => {
    let seen: string | undefined
    const { origin } = await serve((writer) => {
      seen = writer.lastEventId
      return writer.end()
    })
    await (await openStream(origin, { 'Last-Event-ID': 's1-41' })).ended()
    expect(seen).toBe('s1-41')
  })
})

// @microsoft/fetch-event-source dispatches every blank-line block, even one with no field, as an
// empty message; a WHATWG parser does not. Bytes that carry no event must therefore end without a
// blank line, or such clients see a phantom message per connection and per heartbeat.
describe('node writer: read by a client that dispatches every block', () => {
  const done = { id: '', event: 'done', data: '{}' }

  it('dispatches nothing for the opening', async () => {
    const { origin } = await serve((writer) => writer.end())
    expect(dispatchEveryBlock(await (await openStream(origin)).ended())).toEqual([done])
  })

  it('dispatches nothing for a keepalive heartbeat', async () => {
    let writer: EventWriter | undefined
    let opened = 0
    const { origin } = await serve(
      (w) => {
        writer = w
        opened = w.metrics().bytes
      },
      createEventHub({ keepAliveMs: 8 }),
    )
    const client = await openStream(origin)
    // A heartbeat is a bare `:` line; only the opening was written before it.
    await client.waitFor('\n:\n')
    void writer?.end()
    const afterOpening = (await client.ended()).slice(opened)
    expect(afterOpening).toMatch(/^:\n/)
    expect(dispatchEveryBlock(afterOpening)).toEqual([done])
  })

  it('dispatches nothing for a comment', async () => {
    let opened = 0
    const { origin } = await serve(async (writer) => {
      opened = writer.metrics().bytes
      await writer.comment('still here')
      await writer.end()
    })
    const afterOpening = (await (await openStream(origin)).ended()).slice(opened)
    expect(afterOpening).toContain(': still here\n')
    expect(dispatchEveryBlock(afterOpening)).toEqual([done])
  })
})

describe('node writer: sending', () => {
  it('delivers events in order with their ids, then done', async () => {
    const { origin } = await serve(async (writer) => {
      for (let i = 0; i < 3; i++) await writer.send({ id: i, event: 'delta', data: `t${i}` })
      await writer.end()
    })
    const events = parseSse(await (await openStream(origin)).ended())
    expect(events).toEqual([
      { id: '0', event: 'delta', data: 't0' },
      { id: '1', event: 'delta', data: 't1' },
      { id: '2', event: 'delta', data: 't2' },
      { event: 'done', data: '{}' },
    ])
  })

  it('coalesces sends made in the same tick into one socket write, without a timer', async () => {
    let writes = 0
    let writesAfterTick = 0
    const { origin } = await serve((writer, res) => {
      const write = res.write.bind(res) as (chunk: string) => boolean
      res.write = ((chunk: string) => {
        writes++
        return write(chunk)
      }) as typeof res.write
      for (let i = 0; i < 50; i++) void writer.send({ data: `t${i}` })
      // The batch goes out on the next tick, before any timer could fire.
      process.nextTick(() => {
        writesAfterTick = writes
        void writer.end()
      })
    })
    const events = parseSse(await (await openStream(origin)).ended())
    expect(events).toHaveLength(51)
    expect(writesAfterTick).toBe(1)
    expect(writes).toBe(2)
  })

  it('resolves send as written while the client reads', async () => {
    const outcomes: string[] = []
    const { origin } = await serve(async (writer) => {
      outcomes.push(await writer.send({ data: 'a' }), await writer.comment('still here'))
      await writer.end()
    })
    expect(await (await openStream(origin)).ended()).toContain(': still here\n')
    expect(outcomes).toEqual(['written', 'written'])
  })

  it('refuses an injected event name synchronously and keeps the stream intact', async () => {
    let thrown: unknown
    const { origin } = await serve(async (writer) => {
      try {
        await writer.send({ event: 'delta\ndata: injected', data: 'x' })
      } catch (error) {
        thrown = error
      }
      await writer.send({ data: 'after' })
      await writer.end()
    })
    const body = await (await openStream(origin)).ended()
    expect(thrown).toMatchObject({ code: 'invalid-argument' })
    expect(body).not.toContain('injected')
    expect(parseSse(body).map((e) => e.data)).toEqual(['after', '{}'])
  })
})

describe('node writer: disconnects', () => {
  /** Opens a stream, lets the client leave after the opening bytes, and hands over its writer. */
  async function openThenLeave(): Promise<EventWriter> {
    let writer: EventWriter | undefined
    const { origin } = await serve((w) => {
      writer = w
    })
    const client = await openStream(origin)
    await client.waitFor('retry: 1000\n')
    client.destroy()
    return writer as EventWriter
  }

  it('aborts the signal with client-closed when the client leaves', async () => {
    const writer = await openThenLeave()
    expect(await aborted(writer.signal)).toBe('client-closed')
  })

  it('resolves send as closed after the client left', async () => {
    const writer = await openThenLeave()
    await aborted(writer.signal)
    expect(await writer.send({ data: 'late' })).toBe('closed')
    expect(writer.closed).toBe(true)
  })
})

describe('node writer: late open', () => {
  it('closes at once when the client left before the handler opened the stream', async () => {
    const hub = createEventHub()
    let resolveWriter: (writer: EventWriter) => void = () => {}
    const opened = new Promise<EventWriter>((resolve) => {
      resolveWriter = resolve
    })
    let destroyClient: () => void = () => {}
    server = await listen((req, res) => {
      // A slow auth check, say: the response's close event is already past when the writer opens.
      res.on('close', () => resolveWriter(hub.node(req, res)))
      destroyClient()
    })
    const req = request(server.origin)
    req.on('error', () => {})
    destroyClient = () => req.destroy()
    req.end()
    const writer = await opened
    expect(writer.closed).toBe(true)
    expect(writer.signal.reason).toBe('client-closed')
    expect(hub.metrics().activeStreams).toBe(0)
  })
})

describe('node writer: credential expiry', () => {
  /** Serves one event and done under `expiresAt`, and reads what the client got. */
  async function readUnder(
    expiresAt: EventWriterOptions['expiresAt'],
    onError?: (error: unknown) => void,
  ) {
    const hub = createEventHub({ expiresAt, onError })
    const { origin } = await serve(async (writer) => {
      await writer.send({ id: 'e-1', data: 'x' })
      await writer.end()
    }, hub)
    return parseSse(await (await openStream(origin)).ended())
  }

  const delivered = [
    { id: 'e-1', data: 'x' },
    { event: 'done', data: '{}' },
  ]

  it('never expires with expiresAt Infinity', async () => {
    expect(await readUnder(Number.POSITIVE_INFINITY)).toEqual(delivered)
  })

  it('never expires when the expiresAt function returns Infinity', async () => {
    expect(await readUnder(() => Number.POSITIVE_INFINITY)).toEqual(delivered)
  })

  it('never expires when the expiresAt function returns undefined', async () => {
    expect(await readUnder(() => undefined)).toEqual(delivered)
  })

  it('treats a NaN from the expiresAt function as expired, without an expiresAt, and reports it', async () => {
    const seen: unknown[] = []
    const events = await readUnder(
      () => Number.NaN,
      (error) => seen.push(error),
    )
    expect(events).toEqual([{ event: 'auth-expired', data: '{}' }])
    expect(seen).toEqual([expect.objectContaining({ code: 'invalid-argument' })])
  })
})

describe('node writer: terminal events', () => {
  it('end sends done with the given data and ends the response', async () => {
    const { origin } = await serve((writer) => writer.end('{"reason":"cancelled"}'))
    expect(parseSse(await (await openStream(origin)).ended())).toEqual([
      { event: 'done', data: '{"reason":"cancelled"}' },
    ])
  })

  it('fail masks an unexpected message and reports it to onError', async () => {
    const seen: unknown[] = []
    const hub = createEventHub({ onError: (error) => seen.push(error) })
    const { origin } = await serve(
      (writer) => writer.fail(new Error('db password is hunter2')),
      hub,
    )
    const body = await (await openStream(origin)).ended()
    expect(body).not.toContain('hunter2')
    expect(parseSse(body)).toEqual([
      {
        event: 'error',
        data: '{"code":"internal-error","message":"The stream failed unexpectedly.","retryable":false}',
      },
    ])
    expect(seen).toHaveLength(1)
  })

  it('fail passes a structured error through with a matching retry hint', async () => {
    const { origin } = await serve((writer) =>
      writer.fail({
        code: 'upstream-overloaded',
        message: 'Try again soon.',
        retryable: true,
        retryAfterMs: 2500,
      }),
    )
    const body = await (await openStream(origin)).ended()
    expect(body).toContain('retry: 2500\nevent: error\n')
    expect(JSON.parse(parseSse(body)[0]?.data ?? '')).toEqual({
      code: 'upstream-overloaded',
      message: 'Try again soon.',
      retryable: true,
      retryAfterMs: 2500,
    })
  })

  it('close after a send still delivers the sent event, without a terminal event', async () => {
    const { origin } = await serve(async (writer) => {
      await writer.send({ id: '9', event: 'done', data: '{}' })
      writer.close('ended')
    })
    expect(parseSse(await (await openStream(origin)).ended())).toEqual([
      { id: '9', event: 'done', data: '{}' },
    ])
  })

  it('ends a connection at maxDurationMs with a retryable timeout error', async () => {
    const hub = createEventHub({ maxDurationMs: 50 })
    let writer: EventWriter | undefined
    const { origin } = await serve((w) => {
      writer = w
    }, hub)
    const body = await (await openStream(origin)).ended()
    expect(JSON.parse(parseSse(body).at(-1)?.data ?? '')).toMatchObject({
      code: 'timeout',
      retryable: true,
    })
    expect(writer?.signal.reason).toBe('timeout')
  })
})
