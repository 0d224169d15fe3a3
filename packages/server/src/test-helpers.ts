// Clients for the writer's socket tests that read raw bytes, wait for a marker, or never read at
// all. The loopback server and the SSE parser are `@unbroken/test-kit`'s `listen` and `parseSse`.
import { type IncomingMessage, request } from 'node:http'
import { connect, type Socket } from 'node:net'

/** A reading client: accumulates the body as text and resolves `waitFor` once a marker arrived. */
export interface StreamClient {
  readonly response: IncomingMessage
  text(): string
  waitFor(marker: string): Promise<string>
  /** Resolves with the whole body once the server ends the response (or the socket closes). */
  ended(): Promise<string>
  destroy(): void
}

/** Opens `url` with `headers` and reads as fast as the socket allows. */
export function openStream(
  url: string,
  headers: Record<string, string> = {},
): Promise<StreamClient> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (response) => {
      let body = ''
      let waiters: Array<() => void> = []
      let finished = false
      const wake = () => {
        const current = waiters
        waiters = []
        for (const waiter of current) waiter()
      }
      response.setEncoding('utf8')
      response.on('data', (chunk: string) => {
        body += chunk
        wake()
      })
      const finish = () => {
        finished = true
        wake()
      }
      response.on('end', finish)
      response.on('close', finish)
      response.on('error', finish)
      const until = (done: () => boolean) =>
        new Promise<string>((ok) => {
          const check = () => (done() ? ok(body) : waiters.push(check))
          check()
        })
      resolve({
        response,
        text: () => body,
        waitFor: (marker) => until(() => body.includes(marker) || finished),
        ended: () => until(() => finished),
        destroy: () => req.destroy(),
      })
    })
    req.on('error', reject)
    req.end()
  })
}

/** A client that sends a GET and then never reads, so the server's writes back up. */
export function connectNonReading(port: number, path = '/'): Promise<Socket> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`)
      socket.pause()
      resolve(socket)
    })
    // The server cuts this client on purpose; a reset must not fail the test run.
    socket.on('error', () => {})
  })
}

/**
 * Reads SSE text the way `@microsoft/fetch-event-source` does: every blank line dispatches the
 * block so far, even one with no field at all (which a WHATWG parser never dispatches). Comment
 * lines are skipped and `retry:` is applied, as there.
 */
export function dispatchEveryBlock(
  text: string,
): Array<{ id: string; event: string; data: string }> {
  const dispatched: Array<{ id: string; event: string; data: string }> = []
  let message = { id: '', event: '', data: '' }
  for (const line of text.split(/\r\n|\r|\n/).slice(0, -1)) {
    if (line === '') {
      dispatched.push(message)
      message = { id: '', event: '', data: '' }
      continue
    }
    if (line.startsWith(':')) continue
    const colon = line.indexOf(':')
    const name = colon === -1 ? line : line.slice(0, colon)
    const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '')
    if (name === 'data') message.data = message.data === '' ? value : `${message.data}\n${value}`
    else if (name === 'event') message.event = value
    else if (name === 'id') message.id = value
  }
  return dispatched
}

/** Resolves when `signal` aborts (at once if it already has). */
export function aborted(signal: AbortSignal): Promise<unknown> {
  if (signal.aborted) return Promise.resolve(signal.reason)
  return new Promise((resolve) =>
    signal.addEventListener('abort', () => resolve(signal.reason), { once: true }),
  )
}
