// End to end over real loopback: the `@unbroken/client` reader → the proxy → an msw-mocked
// upstream of each kind, with the client's connection cut at seeded byte offsets (inside events,
// inside multi-byte characters). The text must arrive exactly, with no duplicate and one upstream
// request per stream. Replay a failure with PROXY_SEED=<seed>.
import { createEventStream, type ServerSentEvent } from '@unbroken/client'
import { setupServer } from 'msw/node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { UpstreamKind } from './config'
import { directFetch, startTestProxy, type TestProxy, textOf } from './test-proxy'
import { anthropicStream } from './upstreams/fixtures/anthropic'
import { MOCK_BASE_URLS } from './upstreams/fixtures/fixture'
import { pacedHandler } from './upstreams/fixtures/mock'
import { ollamaStream } from './upstreams/fixtures/ollama'
import { openaiStream } from './upstreams/fixtures/openai'
import { composeAnswer, createRandom, type Random, tokenize } from './upstreams/simulated-text'

const server = setupServer()
beforeAll(() => server.listen({ onUnhandledRequest: 'bypass' }))
afterAll(() => server.close())

const SEEDS = process.env.PROXY_SEED ? [Number(process.env.PROXY_SEED)] : [1, 2, 3]
const CUTS_PER_STREAM = 3

const STREAMS: Record<Exclude<UpstreamKind, 'simulated'>, (tokens: string[]) => string[]> = {
  openai: openaiStream,
  anthropic: anthropicStream,
  ollama: ollamaStream,
}

/**
 * A fetch whose first `cuts` connections break after a seeded number of body bytes: the client
 * sees a partial block and an error, and the proxy sees its socket close, as with a real drop.
 */
function cuttingFetch(random: Random, cuts: number): typeof fetch {
  let left = cuts
  return async (input, init) => {
    const connection = new AbortController()
    init?.signal?.addEventListener('abort', () => connection.abort(init.signal?.reason))
    const response = await directFetch(input, { ...init, signal: connection.signal })
    if (left === 0 || !response.body) return response
    left -= 1
    let remaining = 40 + Math.floor(random() * 1500)
    const body = response.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          if (chunk.length < remaining) {
            remaining -= chunk.length
            controller.enqueue(chunk)
            return
          }
          controller.enqueue(chunk.subarray(0, remaining))
          connection.abort()
          controller.error(new TypeError('terminated: the test cut the connection'))
        },
      }),
    )
    return new Response(body, { status: response.status, headers: response.headers })
  }
}

describe.each(Object.keys(STREAMS) as Array<keyof typeof STREAMS>)(
  'through a %s upstream',
  (kind) => {
    let proxy: TestProxy
    beforeAll(async () => {
      proxy = await startTestProxy(['--upstream', kind, '--upstream-url', MOCK_BASE_URLS[kind]])
    })
    afterAll(() => proxy.shutdown())

    it.each(SEEDS)('delivers the exact text through seeded cuts (seed %i)', async (seed) => {
      const random = createRandom(seed)
      const tokens = tokenize(composeAnswer(random, [{ role: 'user', content: `seed ${seed}` }]))
      let upstreamRequests = 0
      server.use(
        pacedHandler(kind, STREAMS[kind](tokens), {
          gapMs: 2,
          onRequest: () => (upstreamRequests += 1),
        }),
      )
      const stream = createEventStream(`${proxy.url}/v1/streams`, {
        fetch: cuttingFetch(random, CUTS_PER_STREAM),
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ messages: [{ role: 'user', content: 'Tell me' }] }),
        backoff: { initialMs: 10, maxMs: 50 },
        random,
      })
      const events: ServerSentEvent[] = []
      for await (const event of stream) events.push(event)
      const ids = events.map((event) => event.lastEventId)
      const context = `seed ${seed} (replay with PROXY_SEED=${seed})`
      expect(stream.getSnapshot().reconnects, context).toBe(CUTS_PER_STREAM)
      expect(new Set(ids).size, context).toBe(ids.length)
      expect(textOf(events), context).toBe(tokens.join(''))
      expect(events.at(-1)?.type, context).toBe('done')
      expect(upstreamRequests, context).toBe(1)
    })
  },
)
