/**
 * The Fetch adapter: a `Response` whose body is a pull-based `ReadableStream`, for Hono, Next.js
 * route handlers, Bun, Deno and Workers. "Drain" here is the consumer pulling again.
 */
import { decodeLastEventId } from './last-event-id'
import type { WriterSettings } from './settings'
import type { HubContext, Sink } from './sink'
import { StreamWriter } from './writer'

// Bytes the stream's own queue holds before the writer counts as backpressured; like Node's
// default socket high-water mark, so both sinks throttle at the same depth.
const QUEUE_BYTES = 16 * 1024

// `process.nextTick` (Node, Bun, Deno) runs only after the microtask queue drains, so a producer
// that awaits every send still has its burst coalesced into one chunk; a microtask would flush
// before the producer's continuation, one event per chunk. Other runtimes get the microtask.
const nextTick = (
  globalThis as { process?: { nextTick?: <T>(task: (arg: T) => void, arg: T) => void } }
).process?.nextTick

/** Opens an SSE `Response` for `request`; the body ends when the writer closes. */
export function openWebStream(
  request: Request,
  settings: WriterSettings,
  hub: HubContext,
): { writer: StreamWriter; response: Response } {
  const encoder = new TextEncoder()
  let writer: StreamWriter | undefined
  let controller: ReadableStreamDefaultController<Uint8Array> | undefined
  let drainWaiter: StreamWriter | undefined
  let bytesWritten = 0
  let finished = false
  const onClose = (reason: 'client-closed' | 'ended') => {
    finished = true
    writer?.sinkClosed(reason)
  }

  const body = new ReadableStream<Uint8Array>(
    {
      start(c) {
        controller = c
      },
      pull() {
        const waiter = drainWaiter
        drainWaiter = undefined
        waiter?.drained()
      },
      cancel() {
        onClose('client-closed')
      },
    },
    { highWaterMark: QUEUE_BYTES, size: (chunk) => chunk.byteLength },
  )

  const sink: Sink = {
    write(chunk) {
      if (finished || controller === undefined) return false
      const bytes = encoder.encode(chunk)
      bytesWritten += bytes.byteLength
      controller.enqueue(bytes)
      return (controller.desiredSize ?? 0) > 0
    },
    onDrain(waiter) {
      drainWaiter = waiter
    },
    end() {
      if (finished) return
      try {
        controller?.close()
      } catch {
        // Already cancelled by the consumer: nothing left to close.
      }
      // A web stream never reports that the consumer read its last byte; closing it is the end.
      onClose('ended')
    },
    destroy() {
      if (finished) return
      try {
        controller?.error(new Error('unbroken: connection closed by the server'))
      } catch {
        // Already closed.
      }
      onClose('client-closed')
    },
    schedule(task, target) {
      if (nextTick !== undefined) nextTick(task, target)
      else queueMicrotask(() => task(target))
    },
    get bytesWritten() {
      return bytesWritten
    },
  }

  request.signal?.addEventListener('abort', () => onClose('client-closed'), { once: true })

  // HTTP/1.1 `Connection: keep-alive` is left to the runtime: a Fetch handler cannot tell the
  // protocol version, and the header is illegal on HTTP/2 (RFC 9113 §8.2.2).
  const headers = new Headers({
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    'x-accel-buffering': 'no',
  })
  for (const [name, value] of Object.entries(settings.headers)) headers.set(name, value)
  const lastEventId = decodeLastEventId(request.headers.get('last-event-id'))
  writer = new StreamWriter(sink, settings, hub, lastEventId)
  const response = new Response(body, { status: settings.status, headers })
  return { writer, response }
}
