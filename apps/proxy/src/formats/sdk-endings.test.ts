// Endings the proxy makes on the compatible endpoints, not the upstream: a cancel (DELETE), a
// drain (SIGTERM), --max-duration, a token that expires mid-answer, and the registry's own
// refusals. The official SDKs, unmodified, must never see a silently short answer: each throws
// its own error after the partial text, or gets the whole answer where there is time to finish
// it. A reader that resumes (@unbroken/client) keeps the registry's endings and resumes where
// that is the right outcome. Real proxies on loopback with the simulated model.
import Anthropic from '@anthropic-ai/sdk'
import { createEventStream } from '@unbroken/client'
import type { SseEvent } from '@unbroken/test-kit'
import OpenAI from 'openai'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  directFetch,
  simulatedText,
  startTestProxy,
  type TestProxy,
  useTestProxy,
} from '../test-proxy'
import { anthropicClient, readMessages } from './anthropic-test-kit'
import { openAIClient, readText } from './openai-test-kit'

// The simulated model sends three tokens, then nothing until it is stopped.
const STALL = { 'x-unbroken-fault': 'stall-after=3' }
const messages = [{ role: 'user' as const, content: 'Explain resumable streams' }]
const model = 'simulated'

const openai = (proxy: TestProxy, apiKey?: string) => openAIClient(proxy, apiKey ? { apiKey } : {})

const anthropic = (proxy: TestProxy, authToken?: string) =>
  anthropicClient(proxy, authToken ? { apiKey: null, authToken } : {})

/** DELETEs the stream whose answer carried `response`'s Content-Location. */
const cancel = (proxy: TestProxy, response: Response) =>
  directFetch(`${proxy.url}${response.headers.get('content-location')}`, { method: 'DELETE' })

describe('a DELETE mid-answer', () => {
  const running = useTestProxy()

  it('makes the openai SDK throw an APIError after the partial text', async () => {
    const { data, response } = await openai(running.proxy)
      .chat.completions.create({ model, messages, stream: true }, { headers: STALL })
      .withResponse()
    const { text, error } = await readText(data, () => cancel(running.proxy, response))
    expect(text).not.toBe('')
    expect(error).toBeInstanceOf(OpenAI.APIError)
    expect(error).toMatchObject({ code: 'cancelled', type: 'server_error' })
  })

  it('makes the Anthropic SDK throw api_error after the partial text', async () => {
    const { data, response } = await anthropic(running.proxy)
      .messages.create({ model, max_tokens: 1024, messages, stream: true }, { headers: STALL })
      .withResponse()
    const { text, stopped, error } = await readMessages(data, () => cancel(running.proxy, response))
    expect(text).not.toBe('')
    expect(stopped).toBe(false)
    expect(error).toBeInstanceOf(Anthropic.APIError)
    expect(error).toMatchObject({ type: 'api_error' })
  })

  it('ends @unbroken/client on the same endpoint with the registry’s done {"reason":"cancelled"}', async () => {
    const stream = createEventStream(`${running.proxy.url}/v1/chat/completions`, {
      fetch: directFetch,
      method: 'POST',
      headers: { 'content-type': 'application/json', ...STALL },
      body: JSON.stringify({ model, messages, stream: true }),
    })
    const events: SseEvent[] = []
    for await (const { type, data } of stream) {
      events.push({ event: type, data })
      if (events.length === 2) {
        // The chunks' id is the stream's: `chatcmpl-<stream id>`.
        const streamId = JSON.parse(data).id.replace('chatcmpl-', '')
        await directFetch(`${running.proxy.url}/v1/streams/${streamId}`, { method: 'DELETE' })
      }
    }
    expect(events.at(-1)).toEqual({ event: 'done', data: '{"reason":"cancelled"}' })
    expect(stream.getSnapshot()).toMatchObject({ closeReason: 'done', reconnects: 0 })
  })
})

describe('a drain (SIGTERM) mid-answer', () => {
  const shortAnswer = { model, messages, maxTokens: 40 }

  it('with no grace: the openai SDK throws an APIError after the partial text', async () => {
    const proxy = await startTestProxy()
    let stopping: Promise<void> | undefined
    const stream = await openai(proxy).chat.completions.create(
      { model, messages, stream: true },
      { headers: STALL },
    )
    const { text, error } = await readText(stream, async () => {
      stopping = proxy.shutdown()
    })
    await stopping
    expect(text).not.toBe('')
    expect(error).toBeInstanceOf(OpenAI.APIError)
    expect(error).toMatchObject({ code: 'producer-lost' })
  })

  it('with no grace: the Anthropic SDK throws overloaded_error after the partial text', async () => {
    const proxy = await startTestProxy()
    let stopping: Promise<void> | undefined
    const stream = await anthropic(proxy).messages.create(
      { model, max_tokens: 1024, messages, stream: true },
      { headers: STALL },
    )
    const { text, stopped, error } = await readMessages(stream, async () => {
      stopping = proxy.shutdown()
    })
    await stopping
    expect(text).not.toBe('')
    expect(stopped).toBe(false)
    expect(error).toBeInstanceOf(Anthropic.APIError)
    expect(error).toMatchObject({ type: 'overloaded_error' })
  })

  it('within the grace: the openai SDK gets the whole answer', async () => {
    const proxy = await startTestProxy(['--shutdown-grace', '20s', '--sim-rate', '100'])
    let stopping: Promise<void> | undefined
    const stream = await openai(proxy).chat.completions.create({
      model,
      messages,
      max_tokens: shortAnswer.maxTokens,
      stream: true,
    })
    const { text, error } = await readText(stream, async () => {
      stopping = proxy.shutdown()
    })
    await stopping
    expect(error).toBeUndefined()
    expect(text).toBe(await simulatedText(shortAnswer))
  })

  it('within the grace: the Anthropic SDK gets the whole answer', async () => {
    const proxy = await startTestProxy(['--shutdown-grace', '20s', '--sim-rate', '100'])
    let stopping: Promise<void> | undefined
    const stream = await anthropic(proxy).messages.create({
      model,
      max_tokens: shortAnswer.maxTokens,
      messages,
      stream: true,
    })
    const { text, stopped, error } = await readMessages(stream, async () => {
      stopping = proxy.shutdown()
    })
    await stopping
    expect(error).toBeUndefined()
    expect(stopped).toBe(true)
    expect(text).toBe(await simulatedText(shortAnswer))
  })
})

describe('--max-duration', () => {
  const running = useTestProxy(['--max-duration', '1s'])

  it('ends the answer with the format’s error for each SDK, after the partial text', async () => {
    const [chunks, events] = await Promise.all([
      openai(running.proxy).chat.completions.create(
        { model, messages, stream: true },
        { headers: STALL },
      ),
      anthropic(running.proxy).messages.create(
        { model, max_tokens: 1024, messages, stream: true },
        { headers: STALL },
      ),
    ])
    const [fromOpenAI, fromAnthropic] = await Promise.all([readText(chunks), readMessages(events)])
    expect(fromOpenAI.text).not.toBe('')
    expect(fromOpenAI.error).toMatchObject({ code: 'max-duration', type: 'server_error' })
    expect(fromAnthropic.text).not.toBe('')
    expect(fromAnthropic.error).toMatchObject({ type: 'api_error' })
  })
})

describe('a token that expires mid-answer', () => {
  const SECRET = 'test-secret-test-secret-test-secret!'
  // 120 tokens at 50/s: about 2.4 s, past the token's 2 s (the registry warns 0.5 s before).
  const longAnswer = { model, messages, maxTokens: 120 }
  const running = useTestProxy(['--token-secret', SECRET, '--token-ttl', '2s', '--sim-rate', '50'])
  let token: string
  beforeAll(async () => {
    const response = await directFetch(`${running.proxy.url}/v1/auth/token`, { method: 'POST' })
    token = (await response.json()).token
  })

  it('does not cut an SDK’s answer: it was authorised when it began, and an SDK cannot resume', async () => {
    const [chunks, events] = await Promise.all([
      openai(running.proxy, token).chat.completions.create({
        model,
        messages,
        max_tokens: longAnswer.maxTokens,
        stream: true,
      }),
      anthropic(running.proxy, token).messages.create({
        model,
        max_tokens: longAnswer.maxTokens,
        messages,
        stream: true,
      }),
    ])
    const [fromOpenAI, fromAnthropic] = await Promise.all([readText(chunks), readMessages(events)])
    const expected = await simulatedText(longAnswer)
    expect(fromOpenAI).toEqual({ text: expected, error: undefined })
    expect(fromAnthropic).toEqual({ text: expected, stopped: true, error: undefined })
  })
})

/**
 * What each SDK gets when it asks for a stream while a stalled one runs on `proxy` (`meanwhile`
 * runs once that one does), with the Retry-After it was told; the stalled one is cancelled after.
 */
async function refusedWhileHeld(proxy: TestProxy, meanwhile: () => void = () => {}) {
  const { data: held, response } = await openai(proxy)
    .chat.completions.create({ model, messages, stream: true }, { headers: STALL })
    .withResponse()
  meanwhile()
  const refused = await Promise.all([
    openai(proxy)
      .chat.completions.create({ model, messages, stream: true })
      .catch((error: unknown) => error),
    anthropic(proxy)
      .messages.create({ model, max_tokens: 1024, messages, stream: true })
      .catch((error: unknown) => error),
  ])
  await cancel(proxy, response)
  await readText(held)
  return refused.map((error) => ({
    error,
    retryAfter:
      error instanceof OpenAI.APIError || error instanceof Anthropic.APIError
        ? Number(error.headers?.get('retry-after'))
        : Number.NaN,
  }))
}

describe("the registry's own refusals, in each API's error shape", () => {
  it('429 past --max-streams: each SDK throws its RateLimitError, with Retry-After', async () => {
    const proxy = await startTestProxy(['--max-streams', '1'])
    const [byOpenAI, byAnthropic] = await refusedWhileHeld(proxy)
    await proxy.shutdown()
    expect(byOpenAI?.error).toBeInstanceOf(OpenAI.RateLimitError)
    expect(byOpenAI?.error).toMatchObject({ code: 'stream-limit', type: 'rate_limit_error' })
    expect(byAnthropic?.error).toBeInstanceOf(Anthropic.RateLimitError)
    expect(byAnthropic?.error).toMatchObject({ type: 'rate_limit_error' })
    expect(byOpenAI?.retryAfter).toBeGreaterThan(0)
    expect(byAnthropic?.retryAfter).toBeGreaterThan(0)
  })

  it('503 while draining: each SDK throws its InternalServerError, with Retry-After', async () => {
    const proxy = await startTestProxy(['--shutdown-grace', '20s'])
    let stopping: Promise<void> | undefined
    const [byOpenAI, byAnthropic] = await refusedWhileHeld(proxy, () => {
      stopping = proxy.shutdown()
    })
    await stopping
    expect(byOpenAI?.error).toBeInstanceOf(OpenAI.InternalServerError)
    expect(byOpenAI?.error).toMatchObject({ status: 503, code: 'shutting-down' })
    expect(byAnthropic?.error).toBeInstanceOf(Anthropic.InternalServerError)
    expect(byAnthropic?.error).toMatchObject({ status: 503, type: 'api_error' })
    expect(byOpenAI?.retryAfter).toBeGreaterThan(0)
    expect(byAnthropic?.retryAfter).toBeGreaterThan(0)
  })
})
