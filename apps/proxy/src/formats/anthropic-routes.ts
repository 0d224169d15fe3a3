// The Anthropic-compatible endpoints: `POST /v1/messages` (events or one JSON message) and
// `POST /v1/messages/count_tokens`, in front of any upstream. A streamed answer is a resumable
// stream like the native one: its events carry ids and its `Content-Location` resumes it.
import { cors } from 'hono/cors'
import type { ProxyApp } from '../app'
import { parseJson, readBody } from '../body'
import { estimateInputTokens } from '../estimate'
import { createAnthropicFormat } from './anthropic'
import { anthropicErrorResponse } from './anthropic-errors'
import { createMessageCollector } from './anthropic-message'
import { countAnthropicTokens, parseAnthropicRequest } from './anthropic-request'
import { COMPAT_EXPOSED_HEADERS, type CompatRouteDeps, createCompatRoutes } from './compat-routes'

/** Where the Messages API lives, as the SDKs call it under their base URL. */
export const MESSAGES_PATH = '/v1/messages'

export function addAnthropicRoutes(app: ProxyApp, deps: CompatRouteDeps): void {
  if (deps.corsOrigin) {
    // The registry adds CORS to stream answers itself; this covers preflights (the SDK in a
    // browser sends anthropic-version and its own headers, reflected here) and JSON answers.
    const withCors = cors({ origin: deps.corsOrigin, exposeHeaders: COMPAT_EXPOSED_HEADERS })
    app.use(`${MESSAGES_PATH}/*`, withCors)
    app.use(MESSAGES_PATH, withCors)
  }

  const { route, generation } = createCompatRoutes(deps, {
    errorResponse: anthropicErrorResponse,
    parse(body) {
      const { request, stream } = parseAnthropicRequest(body)
      const inputTokens = estimateInputTokens(request.messages)
      return {
        request,
        stream,
        format: () => createAnthropicFormat({ inputTokens }),
        collect: (id) => createMessageCollector(id, request.model, inputTokens),
      }
    },
  })

  app.post(MESSAGES_PATH, generation)

  app.post(
    `${MESSAGES_PATH}/count_tokens`,
    route(async (c) => {
      await deps.admit(c)
      const body = parseJson(await readBody(c.env.incoming))
      return c.json({ input_tokens: countAnthropicTokens(body) })
    }),
  )
}
