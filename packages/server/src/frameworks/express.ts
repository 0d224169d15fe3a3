/**
 * `@unbroken/server/express`: the registry as Express or Connect middleware. No import of either:
 * the types below are the parts of their request and response this uses, so Express 4/5, Connect
 * and plain `node:http` all fit, and neither is a dependency of this package.
 */
import { mountedUrl } from '../resumable-http'
import { locateStream, servesRequest } from '../resumable-paths'
import type { Producer } from '../resumable-producer'
import type { ResumableStreams } from '../resumable-types'
import type { NodeRequest, NodeResponse } from '../types'

/** Express/Connect middleware: `(req, res, next)`. */
export type StreamsMiddleware<R extends NodeRequest> = (
  req: R,
  res: NodeResponse,
  next?: (error?: unknown) => void,
) => void

/**
 * Serves `streams` wherever it is mounted (`app.use(mw)`, `app.use('/api', mw)`, a router): POST
 * `basePath` starts `producer` with the request (its parsed `body` included), GET and DELETE
 * `basePath/<id>` resume and cancel, OPTIONS answers the CORS preflight. Any other request goes to
 * `next()`. `Content-Location` keeps the mount, from `req.originalUrl`.
 */
export function createStreamsMiddleware<R extends NodeRequest>(
  streams: ResumableStreams,
  producer: Producer<R>,
): StreamsMiddleware<R> {
  return (req, res, next) => {
    const mounted = mountedUrl(req)
    // A target that is not a URL goes to the registry, which answers it 400 (`undefined` here).
    const located =
      mounted && locateStream(streams.basePath, mounted.url.pathname, mounted.mountPath)
    if (located && !servesRequest(req.method ?? 'GET', located)) {
      if (next) next()
      else {
        res.statusCode = 404
        res.end()
      }
      return
    }
    streams
      .handle(req, res, (stream) => producer(stream, req))
      .catch((error: unknown) => (next ? next(error) : res.destroy()))
  }
}
