import { type Listening, listen } from '@unbroken/test-kit'
import { afterEach, describe, expect, it } from 'vitest'
import { UnbrokenClientError } from './errors'
import type { ServerSentEvent } from './parser'
import { createEventStreamParserStream } from './parser-stream'

const source = (chunks: Array<Uint8Array | string>) =>
  new ReadableStream<Uint8Array | string>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk)
      controller.close()
    },
  })

const collect = async (stream: ReadableStream<ServerSentEvent>) => {
  const events: ServerSentEvent[] = []
  const reader = stream.getReader()
  for (let r = await reader.read(); !r.done; r = await reader.read()) events.push(r.value)
  return events
}

let server: Listening | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

describe('createEventStreamParserStream', () => {
  it('turns chunks into events and drops the unterminated tail at the end', async () => {
    const events = await collect(
      source(['data: a\r', '\r\nid: 1\nevent: x\ndata: b\n\n', 'data: tail']).pipeThrough(
        createEventStreamParserStream(),
      ),
    )
    expect(events).toEqual([
      { type: 'message', data: 'a', lastEventId: '' },
      { type: 'x', data: 'b', lastEventId: '1' },
    ])
  })

  it('passes retry, comments and the initial lastEventId through', async () => {
    const retries: number[] = []
    const comments: string[] = []
    const events = await collect(
      source([': hi\nretry: 250\ndata: a\n\n']).pipeThrough(
        createEventStreamParserStream({
          onRetry: (ms) => retries.push(ms),
          onComment: (text) => comments.push(text),
          lastEventId: '9',
        }),
      ),
    )
    expect(events).toEqual([{ type: 'message', data: 'a', lastEventId: '9' }])
    expect(retries).toEqual([250])
    expect(comments).toEqual(['hi'])
  })

  it('errors the stream with event-too-large', async () => {
    const stream = source([`data: ${'x'.repeat(100)}\n\n`]).pipeThrough(
      createEventStreamParserStream({ maxEventBytes: 32 }),
    )
    const error = await collect(stream).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(UnbrokenClientError)
    expect((error as UnbrokenClientError).code).toBe('event-too-large')
  })

  it('parses a fetch body from a loopback server that splits characters across writes', async () => {
    const body = new TextEncoder().encode('\uFEFFid: 1\ndata: é🦄\r\n\r\n')
    server = await listen((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      // One byte per write, each flushed on its own, splits the BOM, CRLF and every character.
      let i = 0
      const next = () => (i < body.length ? res.write(body.subarray(i, ++i), next) : res.end())
      next()
    })
    const response = await fetch(`${server.origin}/`)
    const events = await collect(
      (response.body as ReadableStream<Uint8Array>).pipeThrough(createEventStreamParserStream()),
    )
    expect(events).toEqual([{ type: 'message', data: 'é🦄', lastEventId: '1' }])
  })
})
