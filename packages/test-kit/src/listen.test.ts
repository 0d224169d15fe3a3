import { once } from 'node:events'
import { createServer as createHttp2Server, connect as http2Connect } from 'node:http2'
import { createServer as createHttpsServer } from 'node:https'
import { describe, expect, it } from 'vitest'
import { listen } from './listen'

describe('listen', () => {
  it('serves a request listener on 127.0.0.1', async () => {
    const served = await listen((_req, res) => res.end('hello'))
    try {
      expect(served.origin).toBe(`http://127.0.0.1:${served.port}`)
      expect(await (await fetch(served.origin)).text()).toBe('hello')
    } finally {
      await served.close()
    }
  })

  it('closes while a response is still open, cutting the client off', async () => {
    const served = await listen((_req, res) => {
      res.writeHead(200)
      res.write('open')
    })
    const body = (await fetch(served.origin)).body?.getReader()
    await body?.read()
    await served.close()
    await expect(body?.read()).rejects.toThrow()
  })

  it('closes an HTTP/2 server with a session and a stream still open', async () => {
    const served = await listen(
      createHttp2Server((_req, res) => {
        res.writeHead(200)
        res.write('open')
      }),
    )
    const session = http2Connect(served.origin)
    session.on('error', () => {})
    const stream = session.request({ ':path': '/' })
    stream.on('error', () => {})
    await once(stream, 'response')
    const sessionClosed = once(session, 'close')
    await served.close()
    await sessionClosed
    expect(session.destroyed).toBe(true)
  })

  it('names a TLS server https', async () => {
    const served = await listen(createHttpsServer())
    await served.close()
    expect(served.origin).toBe(`https://127.0.0.1:${served.port}`)
  })
})
