// The OpenAI-compatible endpoints: `POST /v1/chat/completions` (chunks or one JSON completion) and
// `GET /v1/models`, in front of any upstream. A streamed answer is a resumable stream like the
// native one: its events carry ids and its `Content-Location` resumes it in the same format.
import { UnbrokenServerError } from '@unbroken/server'
import { cors } from 'hono/cors'
import type { ProxyApp, ProxyContext, StreamRouteContext } from '../app'
import { parseJson, readBody } from '../body'
import { ProxyError } from '../errors'
import type { Logger } from '../logger'
import type { StreamJob, StreamProducers } from '../producer'
import type { Upstream } from '../upstreams/upstream'
import { createOpenAIFormat } from './openai'
import { createCompletionCollector } from './openai-completion'
import { openAIErrorResponse } from './openai-errors'
import { parseOpenAIRequest } from './openai-request'

/** Where the `openai` SDK posts chat completions under its base URL (`http://host:port/v1`). */
export const CHAT_COMPLETIONS_PATH = '/v1/chat/completions'

export interface OpenAIRouteDeps extends StreamRouteContext {
  readonly producers: StreamProducers
  readonly logger: Logger
  readonly upstream: Pick<Upstream, 'kind' | 'defaultModel'>
  readonly corsOrigin: string | undefined
}

export function addOpenAIRoutes(app: ProxyApp, deps: OpenAIRouteDeps): void {
  if (deps.corsOrigin) {
    // The registry adds CORS to stream answers itself; this covers preflights and JSON answers.
    const exposeHeaders = ['Content-Location', 'Retry-After', 'Unbroken-Replay-Through']
    app.use(CHAT_COMPLETIONS_PATH, cors({ origin: deps.corsOrigin, exposeHeaders }))
    app.use('/v1/models', cors({ origin: deps.corsOrigin }))
  }

  // Every answer of these routes, errors included, is in OpenAI's shape: the SDKs read it.
  const route = (handler: (c: ProxyContext) => Promise<Response>) => async (c: ProxyContext) => {
    try {
      return await handler(c)
    } catch (error) {
      if (!(error instanceof ProxyError || UnbrokenServerError.isInstance(error))) {
        deps.logger.error({ err: error }, 'request failed')
      }
      return openAIErrorResponse(error)
    }
  }

  app.post(
    CHAT_COMPLETIONS_PATH,
    route(async (c) => {
      const admitted = await deps.admit(c)
      const parsed = parseOpenAIRequest(parseJson(await readBody(c.env.incoming)))
      const { generation } = parsed
      const request = { ...generation, model: generation.model ?? deps.upstream.defaultModel }
      const job = { request, subject: admitted.subject, faults: admitted.faults }
      const created = Math.floor(Date.now() / 1000)
      if (!parsed.stream) return c.json(await complete(c, job, created))
      // The upstream must accept before the answer's status goes out, so that its 401, 429 or
      // 5xx reaches the SDK as that status.
      const opened = await deps.producers.open({
        ...job,
        format: createOpenAIFormat({ created, includeUsage: parsed.includeUsage }),
      })
      try {
        return await deps.toRegistry(c, opened.producer)
      } finally {
        opened.abandon()
      }
    }),
  )

  app.get(
    '/v1/models',
    route(async (c) => {
      await deps.admit(c)
      const { kind, defaultModel } = deps.upstream
      const model = { id: defaultModel, object: 'model', created: 0, owned_by: kind }
      return c.json({ object: 'list', data: [model] })
    }),
  )

  /** The non-streaming answer; a client that leaves stops the generation (nothing could resume it). */
  async function complete(c: ProxyContext, job: Omit<StreamJob, 'format'>, created: number) {
    const left = new AbortController()
    c.env.outgoing.once('close', () => left.abort('client-closed'))
    const { id, chunks } = deps.producers.generate(job, left.signal)
    const completion = createCompletionCollector(id, job.request.model, created)
    for await (const chunk of chunks) for (const event of chunk) completion.add(event)
    return completion.completion()
  }
}
