// Two proxy instances sharing a real redis-server (REDIS_URL): a stream started on one is resumed
// and cancelled on the other, and a SIGTERM on the producing one loses no token.
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { createEventStream } from '@unbroken/client'
import { readSse, type SseEvent, startRedisServer } from '@unbroken/test-kit'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { assembleChunks, readText } from './formats/openai-test-kit'
import {
  chat,
  directFetch,
  postStream,
  readThenLeave,
  resumeAfter,
  startTestProxy,
  type TestProxy,
  textOf,
} from './test-proxy'
import { composeAnswer, createRandom, seedOf, tokenize } from './upstreams/simulated-text'

const redis = await startRedisServer()
afterAll(() => redis?.stop())

// About 300 tokens at 100/s: three seconds of generation to resume, cancel or drain in.
const request = { messages: [{ role: 'user' as const, content: 'A long answer please' }], seed: 7 }
const answer = tokenize(composeAnswer(createRandom(seedOf(request)), request.messages)).join('')

describe.runIf(redis)('with REDIS_URL, across two instances', () => {
  const flags = ['--redis-url', redis?.url as string, '--sim-rate', '100']
  let a: TestProxy
  let b: TestProxy
  beforeAll(async () => {
    a = await startTestProxy([...flags, '--shutdown-grace', '20s'])
    b = await startTestProxy(flags)
  })
  afterAll(async () => {
    await Promise.all([a.shutdown(), b.shutdown()])
  })

  it('starts on one instance, resumes on the other with no gap and no duplicate', async () => {
    expect(a.logs[0]).toMatchObject({ msg: 'proxy listening', log: 'redis' })
    const started = await postStream(a, JSON.stringify(request))
    const first = await readThenLeave(started, 3)
    const resumed = await resumeAfter(b.url, started.headers.get('content-location') ?? '', first)
    const rest = await readSse(resumed).rest()
    expect(textOf([...first, ...rest])).toBe(answer)
    expect(rest.at(-1)?.event).toBe('done')
  })

  it('cancels from the other instance: the producer stops and the stream ends cancelled', async () => {
    const started = await postStream(a, chat('stall'), { 'x-unbroken-fault': 'stall-after=3' })
    const location = started.headers.get('content-location')
    const reading = readSse(started).rest()
    const cancel = await directFetch(`${b.url}${location}`, { method: 'DELETE' })
    expect(cancel.status).toBe(204)
    const events = await reading
    expect(JSON.parse(events.at(-1)?.data as string)).toEqual({ reason: 'cancelled' })
  })

  // The native endpoint, and the OpenAI-compatible one read by a client that resumes (it asks for
  // text/event-stream): for both, a drain is a resume elsewhere, never an end.
  it.each([
    {
      path: '/v1/streams',
      body: request,
      text: textOf,
      streamIdOf: (event: SseEvent) => JSON.parse(event.data).streamId,
    },
    {
      path: '/v1/chat/completions',
      body: { ...request, model: 'simulated', stream: true },
      text: (events: SseEvent[]) => assembleChunks(events).text,
      streamIdOf: (event: SseEvent) => JSON.parse(event.data).id.replace('chatcmpl-', ''),
    },
  ])(
    'loses no token on $path when the producing instance is stopped: the client resumes on the other',
    async ({ path, body, text, streamIdOf }) => {
      const stopping = await startTestProxy([...flags, '--shutdown-grace', '20s'])
      // A load balancer: once the first instance drains, every request goes to B.
      let target = stopping.url
      const balanced: typeof fetch = (input, init) =>
        directFetch(String(input).replace(stopping.url, target), init)
      const stream = createEventStream(`${stopping.url}${path}`, {
        fetch: balanced,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        shouldRetry: ({ retry }) => (retry ? 10 : false),
      })
      const events: SseEvent[] = []
      let stopped: Promise<void> | undefined
      for await (const { type, data } of stream) {
        events.push({ event: type, data })
        if (events.length === 5) {
          target = b.url
          stopped = stopping.shutdown()
        }
      }
      expect(text(events)).toBe(answer)
      expect(stream.getSnapshot()).toMatchObject({ closeReason: 'done', reconnects: 1 })
      // The client can read the end (through B) before the producer has logged its record; a
      // finished shutdown has settled every producer.
      await stopped
      const streamId = streamIdOf(events[0] as SseEvent)
      expect(stopping.records().find((record) => record.streamId === streamId)).toMatchObject({
        status: 'complete',
        end: 'finished',
      })
    },
  )

  // The log fails under an SDK's answer: Redis lost the stream's keys (an eviction, a flush, a
  // restart without persistence). The SDK cannot resume, so it must throw, not end short.
  it('ends an SDK’s answer with the API’s error when the log fails mid-answer', async () => {
    const { data, response } = await new OpenAI({
      baseURL: `${a.url}/v1`,
      apiKey: 'unused',
      fetch: directFetch,
      maxRetries: 0,
    }).chat.completions
      .create(
        { model: 'simulated', messages: request.messages, stream: true },
        { headers: { 'x-unbroken-fault': 'stall-after=3' } },
      )
      .withResponse()
    const streamId = response.headers.get('content-location')?.split('/').pop() as string
    const { text, error } = await readText(data, () => deleteKeysOf(redis?.url as string, streamId))
    expect(text).not.toBe('')
    expect(error).toBeInstanceOf(OpenAI.APIError)
    expect(error).toMatchObject({ code: 'producer-lost' })
  })
})

/** Deletes every Redis key of `streamId`, as an eviction or a flush would. */
async function deleteKeysOf(url: string, streamId: string): Promise<void> {
  const cli = (...args: string[]) => promisify(execFile)('redis-cli', ['-u', url, ...args])
  const { stdout } = await cli('--scan', '--pattern', `*${streamId}*`)
  const keys = stdout.split('\n').filter(Boolean)
  expect(keys.length).toBeGreaterThan(0)
  await cli('del', ...keys)
}
