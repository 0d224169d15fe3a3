/**
 * `@unbroken/server/fastify`: the registry as a Fastify plugin. Fastify is not imported: the
 * interfaces below are the parts of its instance, request and reply this uses, so the package
 * keeps no dependency on it.
 */
import { normalizePath } from '../resumable-paths'
import type { Producer } from '../resumable-producer'
import type { ResumableStreams } from '../resumable-types'
import type { NodeRequest, NodeResponse } from '../types'

/** The parts of a Fastify request this plugin uses. */
export interface FastifyRequestLike {
  readonly raw: NodeRequest
}

/** The parts of a Fastify reply this plugin uses. */
export interface FastifyReplyLike {
  readonly raw: NodeResponse
  hijack(): unknown
}

/** The parts of a Fastify instance this plugin uses. */
export interface FastifyInstanceLike<Q extends FastifyRequestLike, P extends FastifyReplyLike> {
  /** The encapsulating `register(plugin, { prefix })` prefix. */
  readonly prefix: string
  route(options: {
    method: ('GET' | 'POST' | 'DELETE' | 'OPTIONS')[]
    url: string
    handler: (request: Q, reply: P) => Promise<void>
  }): unknown
}

/**
 * A Fastify plugin serving `streams`: register it with `app.register(plugin, { prefix: '/api' })`
 * or without a prefix. POST `basePath` starts `producer` with the Fastify request (its parsed
 * `body` included), GET and DELETE `basePath/:id` resume and cancel, OPTIONS answers the CORS
 * preflight. `basePath` may spell the prefix out (`/api/streams`) or not (`/streams`).
 */
export function createStreamsPlugin<Q extends FastifyRequestLike, P extends FastifyReplyLike>(
  streams: ResumableStreams,
  producer: Producer<Q>,
): (instance: FastifyInstanceLike<Q, P>) => Promise<void> {
  return async (instance) => {
    const prefix = normalizePath('prefix', instance.prefix)
    const { basePath } = streams
    // Routes are declared relative to the plugin's prefix.
    const base = basePath.startsWith(`${prefix}/`) ? basePath.slice(prefix.length) : basePath
    const handler = async (request: Q, reply: P) => {
      // The registry writes the response itself; Fastify must not touch it.
      reply.hijack()
      await streams.handle(request.raw, reply.raw, (stream) => producer(stream, request), {
        mountPath: prefix,
      })
    }
    instance.route({ method: ['POST', 'OPTIONS'], url: base, handler })
    instance.route({ method: ['GET', 'DELETE', 'OPTIONS'], url: `${base}/:id`, handler })
  }
}
