// The generation belongs to the stream, not the connection: a live proxy on loopback in front of
// an msw-mocked OpenAI-compatible upstream that paces its tokens like a model.
import { request as httpRequest, type IncomingMessage } from 'node:http'
import { parseSse, readSse, waitFor } from '@unbroken/test-kit'
import { describe, expect, it } from 'vitest'
import {
  chat,
  directFetch,
  postStream,
  readThenLeave,
  resumeAfter,
  textOf,
  useMockedUpstream,
} from './test-proxy'
import type { UpstreamFixture } from './upstreams/fixtures/fixture'
import { fixtureHandler, pacedHandler } from './upstreams/fixtures/mock'
import { openaiFixtures, openaiStream } from './upstreams/fixtures/openai'
import { composeAnswer, createRandom, tokenize } from './upstreams/simulated-text'

const target = useMockedUpstream('openai', ['--keepalive', '50ms', '--max-streams', '3'])
const { server } = target

/** A long multi-byte answer as tokens (CJK, emoji, combining marks, code). */
const TOKENS = tokenize(composeAnswer(createRandom(42), [{ role: 'user', content: 'Tell me' }]))
const TEXT = TOKENS.join('')

const idOf = (response: Response) =>
  (response.headers.get('content-location') as string).split('/').pop()
const recordOf = (id: string | undefined) =>
  target.proxy.records().find((record) => record.streamId === id)

describe('a client that leaves', () => {
  it('never aborts the upstream; the generation finishes into the log and a resume gets the rest', async () => {
    let upstream: Request | undefined
    server.use(
      pacedHandler('openai', openaiStream(TOKENS), { gapMs: 5, onRequest: (r) => (upstream = r) }),
    )
    const response = await postStream(target.proxy, chat('Tell me'))
    const id = idOf(response)
    const first = await readThenLeave(response, 2)
    await waitFor(() => recordOf(id), { what: 'the generation to finish' })
    expect(upstream?.signal.aborted).toBe(false)
    expect(recordOf(id)).toMatchObject({ status: 'complete', end: 'finished' })
    const resumed = await resumeAfter(target.proxy.url, `/v1/streams/${id}`, first)
    const rest = await readSse(resumed).rest()
    expect(textOf([...first, ...rest])).toBe(TEXT)
    expect(rest.at(-1)?.event).toBe('done')
  })
})

describe('DELETE', () => {
  it('aborts the upstream request during prefill, before its answer, and ends the stream cancelled', async () => {
    let upstream: Request | undefined
    server.use(pacedHandler('openai', undefined, { onRequest: (r) => (upstream = r) }))
    const response = await postStream(target.proxy, chat('Never answered'))
    const reading = readSse(response).rest()
    await waitFor(() => upstream, { what: 'the upstream request' })
    const cancel = await directFetch(`${target.proxy.url}/v1/streams/${idOf(response)}`, {
      method: 'DELETE',
    })
    expect(cancel.status).toBe(204)
    // Aborted by the time the DELETE is answered: the cancel reaches the upstream synchronously.
    expect(upstream?.signal.aborted).toBe(true)
    const events = await reading
    expect(events.map((event) => event.event)).toEqual(['meta', 'done'])
    expect(JSON.parse(events[1]?.data as string)).toEqual({ reason: 'cancelled' })
    await waitFor(() => recordOf(idOf(response)), { what: 'the accounting record' })
    const record = recordOf(idOf(response))
    expect(record).toMatchObject({ status: 'incomplete', end: 'cancelled' })
    // No output ever came, so there is no time to first token.
    expect(record).not.toHaveProperty('ttftMs')
  })

  it('aborts the upstream mid-stream and keeps what was generated', async () => {
    let upstream: Request | undefined
    server.use(
      pacedHandler('openai', openaiStream(TOKENS), { gapMs: 20, onRequest: (r) => (upstream = r) }),
    )
    const response = await postStream(target.proxy, chat('Stop me'))
    const first = await readThenLeave(response, 2)
    await directFetch(`${target.proxy.url}/v1/streams/${idOf(response)}`, { method: 'DELETE' })
    expect(upstream?.signal.aborted).toBe(true)
    const rest = await readSse(
      await resumeAfter(target.proxy.url, `/v1/streams/${idOf(response)}`, first),
    ).rest()
    expect(TEXT.startsWith(textOf([...first, ...rest]))).toBe(true)
    expect(JSON.parse(rest.at(-1)?.data as string)).toEqual({ reason: 'cancelled' })
  })
})

describe('prefill', () => {
  it('sends keepalive comments while the upstream is silent', async () => {
    server.use(pacedHandler('openai', openaiStream(['Late', ' answer']), { prefillMs: 400 }))
    const wire = await (await postStream(target.proxy, chat('Slow'))).text()
    const beforeFirstDelta = wire.slice(0, wire.indexOf('event: delta'))
    // The opening has one comment (`: ok`); the rest are keepalives sent during the prefill.
    expect(beforeFirstDelta.match(/^:/gm)?.length).toBeGreaterThanOrEqual(3)
    expect(textOf(parseSse(wire))).toBe('Late answer')
  })
})

describe('a client that stops reading', () => {
  it('never slows the upstream: the generation finishes into the log while the client reads nothing', async () => {
    // 2 MB in 4 KB tokens: far more than the socket buffers hold, so the connection backs up.
    const big = Array.from(
      { length: 500 },
      (_, i) => `${String(i).padStart(4, '0')}${'字'.repeat(1364)}`,
    )
    server.use(pacedHandler('openai', openaiStream(big)))
    const paused = await new Promise<IncomingMessage>((resolve) => {
      const request = httpRequest(
        `${target.proxy.url}/v1/streams`,
        { method: 'POST', headers: { 'content-type': 'application/json' } },
        (response) => {
          response.pause()
          resolve(response)
        },
      )
      request.end(chat('Flood'))
    })
    const id = (paused.headers['content-location'] as string).split('/').pop()
    await waitFor(() => recordOf(id), { what: 'the generation to finish', timeoutMs: 15_000 })
    expect(recordOf(id)).toMatchObject({ status: 'complete' })
    expect(paused.readableLength).toBeLessThan(2_000_000)
    const body = await new Response(
      new ReadableStream({
        start(controller) {
          paused.on('data', (chunk) => controller.enqueue(new Uint8Array(chunk)))
          paused.on('end', () => controller.close())
          paused.resume()
        },
      }),
    )
    expect(textOf(await readSse(body).rest())).toBe(big.join(''))
  })
})

describe('usage', () => {
  it('estimates usage, and marks it so, when the upstream reports none', async () => {
    const fixture = openaiFixtures.find((f) => f.name === 'a server that ignores include_usage')
    server.use(fixtureHandler(fixture as UpstreamFixture))
    const response = await postStream(target.proxy, chat('How many tokens?'))
    const events = await readSse(response).rest()
    expect(events.slice(-2).map((event) => event.event)).toEqual(['usage', 'done'])
    expect(JSON.parse(events.at(-2)?.data as string)).toEqual({
      inputTokens: expect.any(Number),
      outputTokens: 4,
      estimated: true,
    })
    await waitFor(() => recordOf(idOf(response)), { what: 'the accounting record' })
    expect(recordOf(idOf(response))).toMatchObject({
      status: 'complete',
      usage: { estimated: true },
    })
  })
})

describe('limits and logs', () => {
  it('refuses a stream past --max-streams with 429 and Retry-After', async () => {
    server.use(pacedHandler('openai', undefined))
    const held = await Promise.all([1, 2, 3].map(() => postStream(target.proxy, chat('hold'))))
    const refused = await postStream(target.proxy, chat('one too many'))
    expect(refused.status).toBe(429)
    // The registry jitters Retry-After upwards so that refused clients do not return together.
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    expect(await refused.json()).toMatchObject({ code: 'stream-limit', retryable: true })
    await Promise.all(
      held.map((r) =>
        directFetch(`${target.proxy.url}/v1/streams/${idOf(r)}`, { method: 'DELETE' }),
      ),
    )
    await Promise.all(held.map((r) => readSse(r).rest()))
  })

  it('logs one line per lifecycle event and none per token', async () => {
    // Paced, so that the resume below happens while the stream is still generating.
    server.use(pacedHandler('openai', openaiStream(TOKENS), { gapMs: 5 }))
    const response = await postStream(target.proxy, chat('Log me'))
    const id = idOf(response)
    const first = await readThenLeave(response, 2)
    const resumed = await resumeAfter(target.proxy.url, `/v1/streams/${id}`, first)
    await readSse(resumed).rest()
    await waitFor(() => recordOf(id), { what: 'the accounting record' })
    const lines = target.proxy.logs.filter((line) => line.streamId === id).map((line) => line.msg)
    expect(TOKENS.length).toBeGreaterThan(50)
    expect(lines.sort()).toEqual(['stream ended', 'stream resumed', 'stream started'])
    expect(recordOf(id)).toMatchObject({
      resumes: 1,
      usage: { inputTokens: 9, outputTokens: TOKENS.length, estimated: false },
    })
  })
})
