// Sending a POST to an upstream over real loopback sockets, through Node's keep-alive pool.
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { listen } from '@unbroken/test-kit'
import { afterEach, describe, expect, it } from 'vitest'
import { postStream } from './http'

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
