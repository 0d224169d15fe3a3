// What the OpenAI- and Anthropic-compatible endpoints share: every answer, errors included, is in
// the API's own shape (the SDKs read it), and a generation is either streamed as a resumable stream
// once the upstream accepted it, or answered as one JSON body. Each API gives its dialect.
import { UnbrokenServerError } from '@unbroken/server'
import type { ProxyContext, StreamRouteContext } from '../app'
import { parseJson, readBody } from '../body'
import { ProxyError } from '../errors'
import type { Logger } from '../logger'
import type { StreamJob, StreamProducers } from '../producer'
import type { GenerationRequest } from '../request'
import type { UpstreamEvent } from '../upstreams/upstream'
import type { StreamFormat } from './format'
import { readsResumably, type SdkStreams } from './sdk-stream'

/** Headers a browser client of these endpoints may read (the registry exposes the same). */
export const COMPAT_EXPOSED_HEADERS = ['Content-Location', 'Retry-After', 'Unbroken-Replay-Through']

export interface CompatRouteDeps extends StreamRouteContext {
  readonly producers: StreamProducers
  readonly logger: Logger
  readonly corsOrigin: string | undefined
  /** Serves the streams of clients that cannot resume (the SDKs). */
  readonly sdkStreams: SdkStreams
}

/** Folds one generation's events into the API's non-streamed answer. */
export interface AnswerCollector {
  add(event: UpstreamEvent): void
  /** The answer; only after a `finish` (a generation that failed throws instead). */
  result(): object
}

/** A generation request of one API, translated. */
export interface CompatRequest {
  readonly request: GenerationRequest
  readonly stream: boolean
  /** The stream format of this request; each stream needs its own. */
  format(): StreamFormat
  /** The collector of the non-streamed answer of the generation named `id`. */
  collect(id: string): AnswerCollector
}

/** What differs between the APIs. */
export interface CompatApi {
  /** Validates and translates a request body; throws `invalid-request`. */
  parse(body: unknown): CompatRequest
  /** The HTTP answer for anything a route throws, in the API's error shape. */
  errorResponse(error: unknown): Response
}

/** A route of these endpoints. */
export type CompatHandler = (c: ProxyContext) => Promise<Response>

export function createCompatRoutes(deps: CompatRouteDeps, api: CompatApi) {
  // What the registry adds to its stream answers, for the answers served outside it.
  const corsHeaders: Record<string, string> = deps.corsOrigin
    ? {
        'Access-Control-Allow-Origin': deps.corsOrigin,
        'Access-Control-Expose-Headers': COMPAT_EXPOSED_HEADERS.join(', '),
        ...(deps.corsOrigin === '*' ? {} : { Vary: 'Origin' }),
      }
    : {}

  /** Answers whatever `handler` throws in the API's error shape; logs only the unexpected. */
  const route =
    (handler: CompatHandler): CompatHandler =>
    async (c) => {
      try {
        return await handler(c)
      } catch (error) {
        if (!(error instanceof ProxyError || UnbrokenServerError.isInstance(error))) {
          deps.logger.error({ err: error }, 'request failed')
        }
        return api.errorResponse(error)
      }
    }

  /** The non-streaming answer; a client that leaves stops the generation (nothing could resume it). */
  const complete = async (
    c: ProxyContext,
    job: Omit<StreamJob, 'format'>,
    parsed: CompatRequest,
  ) => {
    const left = new AbortController()
    c.env.outgoing.once('close', () => left.abort('client-closed'))
    const { id, chunks } = deps.producers.generate(job, left.signal)
    const answer = parsed.collect(id)
    for await (const chunk of chunks) for (const event of chunk) answer.add(event)
    return answer.result()
  }

  /** `POST` of a generation: streamed (with `stream: true`) or one JSON answer. */
  const generation = route(async (c) => {
    const admitted = await deps.admit(c)
    const parsed = api.parse(parseJson(await readBody(c.env.incoming)))
    const job = { request: parsed.request, subject: admitted.subject, faults: admitted.faults }
    if (!parsed.stream) return c.json(await complete(c, job, parsed))
    // The upstream must accept before the answer's status goes out, so that its 401, 429 or
    // 5xx reaches the SDK as that status; `open` waits one keepalive interval for it at most.
    const format = parsed.format()
    const opened = await deps.producers.open({ ...job, format })
    try {
      // A reader that resumes gets the registry's connection; an SDK, one that always ends in
      // the API's format (sdk-stream.ts).
      return readsResumably(c)
        ? await deps.toRegistry(c, opened.producer)
        : await deps.sdkStreams.serve(c, {
            producer: opened.producer,
            subject: admitted.subject,
            format,
            headers: corsHeaders,
          })
    } finally {
      opened.abandon()
    }
  })

  return { route, generation }
}
