/**
 * `@unbroken/server/next`: the registry as Next.js App Router route handlers, for one optional
 * catch-all route (`app/api/streams/[[...id]]/route.ts`). Next is not imported: route handlers
 * are plain `Request` → `Response` functions.
 */
import type { Producer } from '../resumable-producer'
import type { ResumableStreams } from '../resumable-types'

/** A Next.js route handler (the route's context argument is not needed). */
export type RouteHandler = (request: Request) => Promise<Response>

/** The route's exports: `export const { GET, POST, DELETE, OPTIONS } = createStreamsRouteHandlers(…)`. */
export interface StreamsRouteHandlers {
  readonly GET: RouteHandler
  readonly POST: RouteHandler
  readonly DELETE: RouteHandler
  readonly OPTIONS: RouteHandler
}

/**
 * Route handlers serving `streams` from one optional catch-all route whose folder is the
 * registry's `basePath` (`basePath: '/api/streams'` for `app/api/streams/[[...id]]/route.ts`):
 * POST starts `producer` with the request (read the prompt with `await request.json()`), GET and
 * DELETE resume and cancel, OPTIONS answers the CORS preflight. Take the registry from
 * `getSharedResumableStreams`, so that `next dev`'s module reloads keep every stream resumable.
 */
export function createStreamsRouteHandlers(
  streams: ResumableStreams,
  producer: Producer<Request>,
): StreamsRouteHandlers {
  const handler: RouteHandler = (request) => streams.fetch(request, producer)
  return { GET: handler, POST: handler, DELETE: handler, OPTIONS: handler }
}
