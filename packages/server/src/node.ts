/**
 * The Node adapter: writes straight to a `ServerResponse` or `Http2ServerResponse`, with no Web
 * Streams in between (each layer costs promise hops per chunk). Uses only globals (`Buffer`,
 * `process`) and type-only `node:*` imports, so the package's main entry stays importable anywhere.
 */

import type { Http2ServerResponse } from 'node:http2'
import type { Socket } from 'node:net'
import { decodeLastEventId } from './last-event-id'
import type { WriterSettings } from './settings'
import type { HubContext, Sink } from './sink'
import type { NodeRequest, NodeResponse } from './types'
import { StreamWriter } from './writer'

/** Opens an SSE response on `res`: status, headers, `setNoDelay`, then the writer. */
export function openNodeStream(
  req: NodeRequest,
  res: NodeResponse,
  settings: WriterSettings,
  hub: HubContext,
): StreamWriter {
  const headers: Record<string, string> = {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    'x-accel-buffering': 'no',
  }
  // HTTP/2 forbids connection-specific headers (RFC 9113 §8.2.2); Node throws if one is set. A
  // request that asked to close, and HTTP/1.0 (which cannot frame an open-ended body but by
  // closing), get Node's own `Connection: close`: keep-alive there would be a false promise.
  if (req.httpVersionMajor < 2 && keepsAlive(req)) headers.connection = 'keep-alive'
  for (const [name, value] of Object.entries(settings.headers)) headers[name.toLowerCase()] = value
  if (!res.headersSent) (res as Http2ServerResponse).writeHead(settings.status, headers)
  // Node's HTTP server already disables Nagle, but sockets from other stacks may not; a token
  // stream of small writes must not wait ~40 ms for delayed ACKs.
  try {
    req.socket?.setNoDelay?.(true)
  } catch {
    // An HTTP/2 session socket proxy may refuse socket manipulation; the session sets its own.
  }
  const header = req.headers['last-event-id']
  const lastEventId = decodeLastEventId(Array.isArray(header) ? header[0] : header)
  const sink = new NodeSink(
    res as Http2ServerResponse,
    req.httpVersionMajor < 2 ? (req.socket as Socket) : undefined,
  )
  const writer = new StreamWriter(sink, settings, hub, lastEventId)
  sink.attach(writer)
  return writer
}

/** Whether an HTTP/1.x stream's connection stays open after it (RFC 9112 §9.3, §9.6). */
function keepsAlive(req: NodeRequest): boolean {
  const close = /(^|[\s,])close($|[\s,])/i.test(String(req.headers.connection ?? ''))
  return req.httpVersionMinor >= 1 && !close
}

/** True when the response can no longer carry bytes (closed before or while the handler ran). */
export function isNodeResponseGone(res: NodeResponse): boolean {
  const r = res as {
    destroyed?: boolean
    writableEnded?: boolean
    socket?: { destroyed?: boolean } | null
  }
  return r.destroyed === true || r.writableEnded === true || r.socket?.destroyed === true
}

// A class for the same reason as the writer: no per-connection closures beyond the two listeners.
class NodeSink implements Sink {
  bytesWritten = 0
  readonly #res: Http2ServerResponse
  readonly #socket: Socket | undefined
  #writer: StreamWriter | undefined
  #drainListener: (() => void) | undefined

  /** `socket` is the HTTP/1 connection's; an HTTP/2 stream has none of its own to uncork. */
  constructor(res: Http2ServerResponse, socket: Socket | undefined) {
    this.#res = res
    this.#socket = socket
  }

  attach(writer: StreamWriter): void {
    this.#writer = writer
    // `close` (not the request's) is the event that fires for every way a response ends,
    // including after the body was consumed (dust-tt/dust#24357).
    this.#res.on('close', () => writer.sinkClosed('client-closed'))
    // Without a listener a late socket error would crash the process.
    this.#res.on('error', () => writer.sinkClosed('error'))
  }

  write(chunk: string): boolean {
    // Encoded here in one pass. Written as a string, the text was measured twice (for this count,
    // and by Node for the chunk-size line) and encoded a third time by the socket: 15% of the
    // writer's CPU in `--cpu-prof` (bench/). Three bytes per UTF-16 unit is UTF-8's worst case,
    // the room Node's own writev reserves for a string; the spare room is freed with the write.
    const buffer = Buffer.allocUnsafe(chunk.length * 3)
    const bytes = buffer.subarray(0, buffer.write(chunk))
    this.bytesWritten += bytes.byteLength
    try {
      return this.#res.write(bytes)
    } catch {
      this.#writer?.sinkClosed('error')
      return false
    }
  }

  onDrain(writer: StreamWriter): void {
    this.#drainListener ??= () => writer.drained()
    this.#res.once('drain', this.#drainListener)
  }

  end(): void {
    this.#res.end()
  }

  destroy(): void {
    // Node corks a response's socket until the next tick after its first write, so a destroy in
    // that same tick would discard the status line, the headers (`Content-Location`) and the
    // opening: the client would not even learn where to resume. Uncorked, they reach the kernel,
    // which still sends them after the close. Node 24 also corks the response itself (its own
    // buffer, in front of the socket's), so both are uncorked.
    const res = this.#res
    while (res.writableCorked > 0) res.uncork()
    const socket = this.#socket
    if (socket !== undefined && socket.writableCorked > 0) socket.uncork()
    res.destroy()
  }

  schedule(task: (writer: StreamWriter) => void, writer: StreamWriter): void {
    // After the microtask queue drains: a producer awaiting each send still fills one batch.
    process.nextTick(task, writer)
  }
}
