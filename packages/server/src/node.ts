/**
 * The Node adapter: writes straight to a `ServerResponse` or `Http2ServerResponse`, with no Web
 * Streams in between (each layer costs promise hops per chunk). Uses only globals (`Buffer`,
 * `process`) and type-only `node:*` imports, so the package's main entry stays importable anywhere.
 */
import type { Http2ServerResponse } from 'node:http2'
import type { WriterSettings } from './settings'
import type { NodeRequest, NodeResponse } from './types'
import { createWriter, type HubContext, type Sink, type WriterHandle } from './writer'

/** Opens an SSE response on `res`: status, headers, `setNoDelay`, then the writer. */
export function openNodeStream(
  req: NodeRequest,
  res: NodeResponse,
  settings: WriterSettings,
  hub: HubContext,
): WriterHandle {
  const headers: Record<string, string> = {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    'x-accel-buffering': 'no',
  }
  // HTTP/2 forbids connection-specific headers (RFC 9113 §8.2.2); Node throws if one is set.
  if (req.httpVersionMajor < 2) headers.connection = 'keep-alive'
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
  const lastEventId = Array.isArray(header) ? header[0] : header
  let handle: WriterHandle | undefined
  const sink = createNodeSink(res, (reason) => handle?.sinkClosed(reason))
  handle = createWriter(sink, settings, hub, lastEventId)
  return handle
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

function createNodeSink(
  res: NodeResponse,
  onClose: (reason: 'client-closed' | 'error') => void,
): Sink {
  const out = res as Http2ServerResponse
  let bytesWritten = 0
  // `close` (not the request's) is the event that fires for every way a response ends, including
  // after the body was consumed (dust-tt/dust#24357).
  out.on('close', () => onClose('client-closed'))
  // Without a listener a late socket error would crash the process.
  out.on('error', () => onClose('error'))
  return {
    write(chunk) {
      bytesWritten += Buffer.byteLength(chunk)
      try {
        return out.write(chunk)
      } catch {
        onClose('error')
        return false
      }
    },
    onDrain(listener) {
      out.once('drain', listener)
    },
    end() {
      out.end()
    },
    destroy() {
      out.destroy()
    },
    schedule: process.nextTick,
    get bytesWritten() {
      return bytesWritten
    },
  }
}
