import { once } from 'node:events'
import { createServer, type RequestListener, type Server } from 'node:http'

export type Listening = {
  readonly server: Server
  readonly port: number
  /** `http://127.0.0.1:<port>`. */
  readonly origin: string
  /** Stops listening and drops open connections, so live streams cannot keep a test waiting. */
  close(): Promise<void>
}

/** Serves `handler` on an ephemeral port of 127.0.0.1. */
export async function listen(handler: RequestListener | Server): Promise<Listening> {
  const server = typeof handler === 'function' ? createServer(handler) : handler
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('server has no TCP address')
  return {
    server,
    port: address.port,
    origin: `http://127.0.0.1:${address.port}`,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      server.closeAllConnections()
      await closed
    },
  }
}
