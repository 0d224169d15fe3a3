// Sending a POST to an upstream over real loopback sockets, through Node's keep-alive pool.
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { listen } from '@unbroken/test-kit'
import { afterEach, describe, expect, it } from 'vitest'
import { decodeEvents, postStream } from './http'
import type { UpstreamChunk } from './upstream'

const SSE = /^text\/event-stream/

let close: (() => Promise<void>) | undefined
afterEach(() => close?.())

/**
 * An upstream that answers the first request of each connection, and resets the connection when
 * a later request arrives on it without answering: what a request meets when it is sent on a
 * kept-alive connection that the upstream has just closed.
 */
async function upstream(options: { resetFirst?: boolean } = {}) {
  const requests = new WeakMap<Socket, number>()
  const seen = { requests: 0, reused: 0 }
  const server = await listen((req: IncomingMessage, res: ServerResponse) => {
    const count = (requests.get(req.socket) ?? 0) + 1
    requests.set(req.socket, count)
    seen.requests += 1
    if (count > 1) seen.reused += 1
    req.resume()
    if (options.resetFirst || count > 1) {
      req.socket.destroy()
      return
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    res.end('data: {}\n\n')
  })
  close = server.close
  return { url: `${server.origin}/v1/chat/completions`, seen }
}

const post = (url: string) => postStream(url, {}, {}, SSE, new AbortController().signal)

async function drain(response: IncomingMessage) {
  for await (const _ of response);
}

describe('postStream', () => {
  it('sends a request again on a new connection when the kept-alive one it went out on was reset before any answer', async () => {
    const { url, seen } = await upstream()
    await drain(await post(url))
    const response = await post(url)
    await drain(response)
    expect(response.statusCode).toBe(200)
    // The second request did go out on the first connection, and was answered on a new one.
    expect(seen).toEqual({ requests: 3, reused: 1 })
  })

  it('gives up when a new connection is reset: only a reused one may have been closed unseen', async () => {
    const { url, seen } = await upstream({ resetFirst: true })
    await expect(post(url)).rejects.toMatchObject({ code: 'upstream-unavailable' })
    expect(seen.requests).toBe(1)
  })
})

/** An upstream that writes `body` (each string its own write, a tick apart), then does `end`. */
async function writing(body: readonly string[], end: 'end' | 'reset' | 'hold') {
  const server = await listen(async (req: IncomingMessage, res: ServerResponse) => {
    req.resume()
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    for (const part of body) {
      res.write(part)
      await new Promise((resolve) => setImmediate(resolve))
    }
    if (end === 'end') res.end()
    else if (end === 'reset') req.socket.destroy()
  })
  close = server.close
  return `${server.origin}/v1/chat/completions`
}

/** Each SSE event's data as a text event; `[DONE]` is the end marker. */
function read(url: string, signal = new AbortController().signal) {
  return decodeEvents(
    () => postStream(url, {}, {}, SSE, signal),
    signal,
    (event, out) => {
      if (event.data === '[DONE]') return true
      out.push({ type: 'text', text: event.data })
      return false
    },
  )
}

const texts = (chunks: UpstreamChunk[]) =>
  chunks.flat().map((event) => (event.type === 'text' ? event.text : event.type))

describe('decodeEvents', () => {
  it('decodes every event of a body in order, however it is cut into network chunks', async () => {
    const url = await writing(['data: a\n\ndata: ', 'b\n\n', 'data: c\n\ndata: [DONE]\n\n'], 'end')
    const chunks: UpstreamChunk[] = []
    for await (const chunk of read(url)) chunks.push(chunk)
    expect(texts(chunks)).toEqual(['a', 'b', 'c'])
  })

  it('reads a body far larger than what may wait unread, to the end, when its reader is slow', async () => {
    const events = Array.from(
      { length: 400 },
      (_, i) => `data: ${String(i).padStart(1000, '.')}\n\n`,
    )
    const url = await writing([events.join(''), 'data: [DONE]\n\n'], 'end')
    const chunks: UpstreamChunk[] = []
    for await (const chunk of read(url)) {
      chunks.push(chunk)
      await new Promise((resolve) => setTimeout(resolve, 1))
    }
    expect(texts(chunks).map((text) => Number(text.replaceAll('.', '')))).toEqual(
      events.map((_, i) => i),
    )
  })

  it('yields what arrived before the connection broke off, then fails with upstream-truncated', async () => {
    const url = await writing(['data: a\n\n', 'data: b\n\n'], 'reset')
    const chunks: UpstreamChunk[] = []
    await expect(
      (async () => {
        for await (const chunk of read(url)) chunks.push(chunk)
      })(),
    ).rejects.toMatchObject({ code: 'upstream-truncated' })
    expect(texts(chunks)).toEqual(['a', 'b'])
  })

  it('fails with the reason of an abort of ours, not as a truncation', async () => {
    const url = await writing(['data: a\n\n'], 'hold')
    const stop = new AbortController()
    const reason = new Error('cancelled by the test')
    await expect(
      (async () => {
        for await (const _ of read(url, stop.signal)) stop.abort(reason)
      })(),
    ).rejects.toBe(reason)
  })
})
