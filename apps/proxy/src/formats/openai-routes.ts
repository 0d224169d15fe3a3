// The OpenAI-compatible endpoints: `POST /v1/chat/completions` (chunks or one JSON completion) and
// `GET /v1/models`, in front of any upstream. A streamed answer is a resumable stream like the
// native one: its events carry ids and its `Content-Location` resumes it in the same format.
import { cors } from 'hono/cors'
import type { ProxyApp } from '../app'
import type { Upstream } from '../upstreams/upstream'
import { COMPAT_EXPOSED_HEADERS, type CompatRouteDeps, createCompatRoutes } from './compat-routes'
import { createOpenAIFormat } from './openai'
import { createCompletionCollector } from './openai-completion'
import { openAIErrorResponse } from './openai-errors'
import { parseOpenAIRequest } from './openai-request'

/** Where the `openai` SDK posts chat completions under its base URL (`http://host:port/v1`). */
export const CHAT_COMPLETIONS_PATH = '/v1/chat/completions'

export interface OpenAIRouteDeps extends CompatRouteDeps {
  readonly upstream: Pick<Upstream, 'kind' | 'defaultModel'>
}

export function addOpenAIRoutes(app: ProxyApp, deps: OpenAIRouteDeps): void {
  if (deps.corsOrigin) {
    // The registry adds CORS to stream answers itself; this covers preflights and JSON answers.
    app.use(
      CHAT_COMPLETIONS_PATH,
      cors({ origin: deps.corsOrigin, exposeHeaders: COMPAT_EXPOSED_HEADERS }),
    )
    app.use('/v1/models', cors({ origin: deps.corsOrigin }))
  }

  const { route, generation } = createCompatRoutes(deps, {
    errorResponse: openAIErrorResponse,
    parse(body) {
      const { generation, stream, includeUsage } = parseOpenAIRequest(body)
      const model = generation.model ?? deps.upstream.defaultModel
      const created = Math.floor(Date.now() / 1000)
      return {
        request: { ...generation, model },
        stream,
        format: () => createOpenAIFormat({ created, includeUsage }),
        collect: (id) => createCompletionCollector(id, model, created),
      }
    },
  })

  app.post(CHAT_COMPLETIONS_PATH, generation)

  app.get(
    '/v1/models',
    route(async (c) => {
      await deps.admit(c)
      const { kind, defaultModel } = deps.upstream
      const model = { id: defaultModel, object: 'model', created: 0, owned_by: kind }
      return c.json({ object: 'list', data: [model] })
    }),
  )
}
