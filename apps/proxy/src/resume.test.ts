// End to end over real loopback: the `@unbroken/client` reader → a fault proxy that cuts the
// client's connections at seeded byte offsets (inside events, inside multi-byte characters) → the
// proxy → an msw-mocked upstream of each kind. The text must arrive exactly, with no duplicate
// and one upstream request per stream. A failure prints its seed; replay with E2E_SEED=<seed>.
import { createEventStream } from '@unbroken/client'
import {
  baseSeed,
  createFaultProxy,
  createRandom,
  describeSeed,
  randomInt,
  type SseEvent,
} from '@unbroken/test-kit'
import { setupServer } from 'msw/node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { UpstreamKind } from './config'
import { directFetch, startTestProxy, type TestProxy, textOf } from './test-proxy'
import { anthropicStream } from './upstreams/fixtures/anthropic'
import { MOCK_BASE_URLS } from './upstreams/fixtures/fixture'
import { pacedHandler } from './upstreams/fixtures/mock'
import { ollamaStream } from './upstreams/fixtures/ollama'
import { openaiStream } from './upstreams/fixtures/openai'
import { composeAnswer, tokenize } from './upstreams/simulated-text'

const server = setupServer()
beforeAll(() => server.listen({ onUnhandledRequest: 'bypass' }))
afterAll(() => server.close())

const BASE_SEED = baseSeed()
const RUNS = [0, 1, 2]
const CUTS_PER_STREAM = 3

const STREAMS: Record<Exclude<UpstreamKind, 'simulated'>, (tokens: string[]) => string[]> = {
  openai: openaiStream,
  anthropic: anthropicStream,
  ollama: ollamaStream,
}

describe.each(Object.keys(STREAMS) as Array<keyof typeof STREAMS>)(
  'through a %s upstream',
  (kind) => {
    let proxy: TestProxy
    beforeAll(async () => {
      proxy = await startTestProxy(['--upstream', kind, '--upstream-url', MOCK_BASE_URLS[kind]])
    })
    afterAll(() => proxy.shutdown())

    it.each(RUNS)('delivers the exact text through seeded cuts (run %i)', async (run) => {
      const seed = BASE_SEED + run
      const random = createRandom(seed)
      const tokens = tokenize(composeAnswer(random, [{ role: 'user', content: `seed ${seed}` }]))
      let upstreamRequests = 0
      server.use(
        pacedHandler(kind, STREAMS[kind](tokens), {
          gapMs: 2,
          onRequest: () => (upstreamRequests += 1),
        }),
      )
      // Past the response head (so the POST always learns its Content-Location), anywhere in the body.
      const faults = await createFaultProxy({
        targetPort: Number(new URL(proxy.url).port),
        plan: ({ index }) =>
          index < CUTS_PER_STREAM ? { cutAt: randomInt(random, 400, 2000) } : {},
      })
      const stream = createEventStream(`${faults.origin}/v1/streams`, {
        fetch: directFetch,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ messages: [{ role: 'user', content: 'Tell me' }] }),
        backoff: { initialMs: 10, maxMs: 50 },
        random,
      })
      const events: SseEvent[] = []
      for await (const { lastEventId, type, data } of stream) {
        events.push({ id: lastEventId, event: type, data })
      }
      await faults.close()
      const ids = events.map((event) => event.id)
      const context = describeSeed(seed)
      expect(
        faults.connections.filter((c) => c.cut),
        context,
      ).toHaveLength(CUTS_PER_STREAM)
      expect(new Set(ids).size, context).toBe(ids.length)
      expect(textOf(events), context).toBe(tokens.join(''))
      expect(events.at(-1)?.event, context).toBe('done')
      expect(upstreamRequests, context).toBe(1)
    })
  },
)
