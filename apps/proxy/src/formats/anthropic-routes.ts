// The Anthropic-compatible endpoints: `POST /v1/messages` (events or one JSON message) and
// `POST /v1/messages/count_tokens`, in front of any upstream. A streamed answer is a resumable
// stream like the native one: its events carry ids and its `Content-Location` resumes it.
import { UnbrokenServerError } from '@unbroken/server'
import { cors } from 'hono/cors'
import type { ProxyApp, ProxyContext, StreamRouteContext } from '../app'
import { parseJson, readBody } from '../body'
import { ProxyError } from '../errors'
import { estimateInputTokens } from '../estimate'
import type { Logger } from '../logger'
import type { StreamJob, StreamProducers } from '../producer'
import { createAnthropicFormat } from './anthropic'
import { anthropicErrorResponse } from './anthropic-errors'
import { createMessageCollector } from './anthropic-message'
import { countAnthropicTokens, parseAnthropicRequest } from './anthropic-request'

/** Where the Messages API lives, as the SDKs call it under their base URL. */
export const MESSAGES_PATH = '/v1/messages'

export interface AnthropicRouteDeps extends StreamRouteContext {
  readonly producers: StreamProducers
  readonly logger: Logger
  readonly corsOrigin: string | undefined
}

export function addAnthropicRoutes(app: ProxyApp, deps: AnthropicRouteDeps): void {
  if (deps.corsOrigin) {
    // The registry adds CORS to stream answers itself; this covers preflights (the SDK in a
    // browser sends anthropic-version and its own headers, reflected here) and JSON answers.
    const exposeHeaders = ['Content-Location', 'Retry-After', 'Unbroken-Replay-Through']
    app.use(`${MESSAGES_PATH}/*`, cors({ origin: deps.corsOrigin, exposeHeaders }))
    app.use(MESSAGES_PATH, cors({ origin: deps.corsOrigin, exposeHeaders }))
  }

  // Every answer of these routes, errors included, is in the API's shape: the SDKs read it.
  const route = (handler: (c: ProxyContext) => Promise<Response>) => async (c: ProxyContext) => {
    try {
      return await handler(c)
    } catch (error) {
      if (!(error instanceof ProxyError || UnbrokenServerError.isInstance(error))) {
        deps.logger.error({ err: error }, 'request failed')
      }
      return anthropicErrorResponse(error)
    }
  }

  app.post(
    MESSAGES_PATH,
    route(async (c) => {
      const admitted = await deps.admit(c)
      const { request, stream } = parseAnthropicRequest(parseJson(await readBody(c.env.incoming)))
      const job = { request, subject: admitted.subject, faults: admitted.faults }
      const inputTokens = estimateInputTokens(request.messages)
      if (!stream) return c.json(await complete(c, job, inputTokens))
      // The upstream must accept before the answer's status goes out, so that its 401, 429 or
      // 5xx reaches the SDK as that status.
      const opened = await deps.producers.open({
        ...job,
        format: createAnthropicFormat({ inputTokens }),
      })
      try {
        return await deps.toRegistry(c, opened.producer)
      } finally {
        opened.abandon()
      }
    }),
  )

  app.post(
    `${MESSAGES_PATH}/count_tokens`,
    route(async (c) => {
      await deps.admit(c)
      const body = parseJson(await readBody(c.env.incoming))
      return c.json({ input_tokens: countAnthropicTokens(body) })
    }),
  )

  /** The non-streaming answer; a client that leaves stops the generation (nothing could resume it). */
  async function complete(c: ProxyContext, job: Omit<StreamJob, 'format'>, inputTokens: number) {
    const left = new AbortController()
    c.env.outgoing.once('close', () => left.abort('client-closed'))
    const { id, chunks } = deps.producers.generate(job, left.signal)
    const message = createMessageCollector(id, job.request.model, inputTokens)
    for await (const chunk of chunks) for (const event of chunk) message.add(event)
    return message.message()
  }
}
