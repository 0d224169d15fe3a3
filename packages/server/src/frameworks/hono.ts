/**
 * `@unbroken/server/hono`: the registry as a Hono handler. Hono is not imported: the interface
 * below is the part of its context this uses, so the package keeps no dependency on it.
 */
import { normalizePath } from '../resumable-paths'
import type { Producer } from '../resumable-producer'
import type { ResumableStreams } from '../resumable-types'

/** The part of a Hono `Context` this handler uses. */
export interface HonoContextLike {
  readonly req: { readonly raw: Request }
}

/** Options of `createStreamsHandler`. */
export interface StreamsHandlerOptions {
  /** The path a parent app mounts this one at (`app.route('/api', sub)`), if `basePath` omits it. */
  readonly mountPath?: string | undefined
}

/**
 * A Hono handler serving `streams`; route `basePath` and `basePath/*` to it with `app.on(['GET',
 * 'POST', 'DELETE', 'OPTIONS'], …)` or `app.all`. POST starts `producer` with the Hono context
 * (read the prompt with `await c.req.json()`), GET and DELETE resume and cancel, OPTIONS answers
 * the CORS preflight. Runs wherever Hono does (`@hono/node-server`, Bun, Deno, Workers).
 */
export function createStreamsHandler<C extends HonoContextLike>(
  streams: ResumableStreams,
  producer: Producer<C>,
  options: StreamsHandlerOptions = {},
): (c: C) => Promise<Response> {
  const mountPath =
    options.mountPath === undefined ? undefined : normalizePath('mountPath', options.mountPath)
  return (c) => streams.fetch(c.req.raw, (stream) => producer(stream, c), { mountPath })
}
