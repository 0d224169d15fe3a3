import { UnbrokenServerError } from './errors'
import { createKeepAlive, unref } from './keepalive'
import { createHubMetrics } from './metrics'
import { isNodeResponseGone, openNodeStream } from './node'
import { count, delay, resolveSettings } from './settings'
import type { HubContext } from './sink'
import type { EventHub, EventHubOptions, EventWriterOptions } from './types'
import { openWebStream } from './web'
import type { StreamWriter } from './writer'

/**
 * Creates a hub: the owner of everything connections share (aggregate metrics, the keepalive
 * clock, shutdown). Its options are defaults for every writer it opens.
 */
export function createEventHub(options: EventHubOptions = {}): EventHub {
  // Validate once at creation, so a bad option fails at startup rather than on the first request.
  const defaults = resolveSettings(options, undefined)
  // A writer without options of its own shares these: one object for all, not one per connection.
  const settingsFor = (own: EventWriterOptions | undefined) =>
    own === undefined ? defaults : resolveSettings(options, own)
  const maxStreams =
    options.maxStreams === undefined
      ? Number.POSITIVE_INFINITY
      : count('maxStreams', options.maxStreams)
  const metrics = createHubMetrics()
  const open = new Set<StreamWriter>()
  let closing = false

  const context: HubContext = {
    metrics,
    keepAlive: createKeepAlive(),
    release(writer, reason) {
      if (!open.delete(writer)) return
      metrics.counters.activeStreams = open.size
      metrics.counters.disconnects[reason]++
      if (metrics.observed) metrics.emit({ type: 'stream-close', reason, stream: writer.metrics() })
    },
  }

  function admit(): void {
    if (closing) {
      throw new UnbrokenServerError('shutting-down', 'The server is shutting down; try again.')
    }
    if (open.size >= maxStreams) {
      throw new UnbrokenServerError(
        'stream-limit',
        'The server has too many open streams; try again shortly.',
      )
    }
  }

  function register(handle: StreamWriter): void {
    open.add(handle)
    metrics.counters.openedStreams++
    metrics.counters.activeStreams = open.size
    if (metrics.observed) metrics.emit({ type: 'stream-open' })
    handle.start()
  }

  return {
    node(req, res, own?: EventWriterOptions) {
      admit()
      const writer = openNodeStream(req, res, settingsFor(own), context)
      register(writer)
      // The client may have left before the handler ran; its `close` event is then already past.
      if (isNodeResponseGone(res)) writer.sinkClosed('client-closed')
      return writer
    },
    web(request, own?: EventWriterOptions) {
      admit()
      const { writer, response } = openWebStream(request, settingsFor(own), context)
      register(writer)
      if (request.signal?.aborted === true) writer.sinkClosed('client-closed')
      return { response, writer }
    },
    metrics: () => metrics.snapshot(),
    onMetrics: (listener) => metrics.subscribe(listener),
    async closeAll(shutdown = {}) {
      closing = true
      const jitter = count('retryJitterMs', shutdown.retryJitterMs ?? 5000)
      const deadlineMs = delay('deadlineMs', shutdown.deadlineMs ?? 10_000)
      const message = `The server is shutting down${shutdown.reason ? ` (${shutdown.reason})` : ''}; resume with Last-Event-ID.`
      const handles = [...open]
      // Each client gets its own delay so that reconnects spread out instead of stampeding.
      for (const handle of handles)
        handle.shutdown(defaults.retryMs + Math.floor(Math.random() * (jitter + 1)), message)
      let timer: ReturnType<typeof setTimeout> | undefined
      const deadline = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, deadlineMs)
        unref(timer)
      })
      await Promise.race([Promise.all(handles.map((handle) => handle.done)), deadline])
      clearTimeout(timer)
      for (const handle of handles) handle.destroy()
    },
    get closing() {
      return closing
    },
  }
}
