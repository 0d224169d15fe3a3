import { once } from 'node:events'
import { createServer, type Server as HttpServer, type RequestListener } from 'node:http'
import { createServer as createNetServer, type Server, type Socket } from 'node:net'
import { Server as TlsServer } from 'node:tls'

/** A server listening on an ephemeral port of 127.0.0.1. */
export interface Listening<S extends Server = Server> {
  readonly server: S
  readonly port: number
  /** `http://127.0.0.1:<port>` (`https:` for a TLS server), no trailing slash. */
  readonly origin: string
  /** Stops listening and destroys every open connection, so a live stream cannot hold a test. */
  close(): Promise<void>
}

/**
 * Serves `handler` (in a `node:http` server), or starts `server` (node:http, node:https,
 * node:http2, or any `net.Server`), on an ephemeral port of 127.0.0.1.
 */
export async function listen(handler: RequestListener): Promise<Listening<HttpServer>>
export async function listen<S extends Server>(server: S): Promise<Listening<S>>
export async function listen(handler: RequestListener | Server): Promise<Listening> {
  const server = typeof handler === 'function' ? createServer(handler) : handler
  // Tracked at the TCP level: `closeAllConnections` exists only on node:http(s) servers, and
  // an HTTP/2 session or a TLS socket dies with its TCP socket all the same.
  const sockets = new Set<Socket>()
  server.on('connection', (socket: Socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('server has no TCP address')
  const scheme = server instanceof TlsServer ? 'https' : 'http'
  return {
    server,
    port: address.port,
    origin: `${scheme}://127.0.0.1:${address.port}`,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      for (const socket of sockets) socket.destroy()
      await closed
    },
  }
}

/**
 * A port of 127.0.0.1 that was free a moment ago, for a process that must be told its port
 * (redis-server, nginx) rather than bind port 0 itself.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createNetServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}
