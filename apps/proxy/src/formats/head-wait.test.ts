// An upstream slow to answer at all (a cold model load, a server that sends its head only with the
// first token): the compatible endpoints wait for its head one keepalive interval at most, so that
// its status can still be the answer's, then begin the answer and keep it alive (comments, or
// Anthropic's `ping`), so that no proxy in between times out. A refusal after that is the format's
// in-stream error. msw plays upstreams whose head waits for the test.
import Anthropic from '@anthropic-ai/sdk'
import { parseSse } from '@unbroken/test-kit'
import OpenAI from 'openai'
import { describe, expect, it } from 'vitest'
import { directFetch, useMockedUpstream } from '../test-proxy'
import { anthropicFixtures } from '../upstreams/fixtures/anthropic'
import type { UpstreamFixture } from '../upstreams/fixtures/fixture'
import { fixtureHandler } from '../upstreams/fixtures/mock'
import { openaiFixtures } from '../upstreams/fixtures/openai'
import { assembleChunks, postChat } from './openai-test-kit'

const KEEPALIVE = ['--keepalive', '100ms']

const named = (fixtures: readonly UpstreamFixture[], name: string): UpstreamFixture => {
  const found = fixtures.find((fixture) => fixture.name === name)
  if (!found) throw new Error(`no fixture ${name}`)
  return found
}

/** The upstream's answer head waits for `open()`. */
function heldHead() {
  let open = () => {}
  const opened = new Promise<void>((resolve) => {
    open = resolve
  })
  return { opened, open }
}

const messages = [{ role: 'user' as const, content: 'Hello' }]

describe('in front of a slow OpenAI-compatible upstream', () => {
  const target = useMockedUpstream('openai', KEEPALIVE)
  const sdk = () =>
    new OpenAI({
      baseURL: `${target.proxy.url}/v1`,
      apiKey: 'unused',
      fetch: directFetch,
      maxRetries: 0,
    })

  it('answers 200 before the upstream’s head, sends keepalive comments, then the whole answer', async () => {
    const head = heldHead()
    const fixture = named(openaiFixtures, 'text with usage, then [DONE]')
    target.server.use(fixtureHandler(fixture, { headAfter: head.opened }))
    const response = await postChat(target.proxy, { model: 'gpt-4o-mini', messages, stream: true })
    expect(response.status).toBe(200)
    const reader = (response.body as ReadableStream<Uint8Array>).getReader()
    const decoder = new TextDecoder()
    let wire = ''
    let comments = 0
    // The opening has one comment; two more are keepalives while the upstream says nothing.
    while (comments < 3) {
      const { value, done } = await reader.read()
      if (done) break
      wire += decoder.decode(value, { stream: true })
      comments = (wire.match(/^:/gm) ?? []).length
    }
    expect(comments).toBeGreaterThanOrEqual(3)
    head.open()
    for (let read = await reader.read(); !read.done; read = await reader.read()) {
      wire += decoder.decode(read.value, { stream: true })
    }
    const text = fixture.expected.events.flatMap((event) =>
      event.type === 'text' ? [event.text] : [],
    )
    expect(assembleChunks(parseSse(wire))).toMatchObject({ text: text.join(''), done: true })
  })

  it('turns an upstream 429 that comes after the answer began into an error chunk the SDK throws', async () => {
    const head = heldHead()
    const fixture = named(openaiFixtures, 'a 429 with Retry-After before the stream')
    target.server.use(fixtureHandler(fixture, { headAfter: head.opened }))
    const stream = await sdk().chat.completions.create({
      model: 'gpt-4o-mini',
      messages,
      stream: true,
    })
    head.open()
    const error = await (async () => {
      for await (const _ of stream);
    })().catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(OpenAI.APIError)
    expect(error).toMatchObject({ code: 'upstream-rate-limited', type: 'rate_limit_error' })
  })
})

describe('in front of a slow Anthropic upstream', () => {
  const target = useMockedUpstream('anthropic', KEEPALIVE)

  it('begins the answer before the upstream’s head; a 529 after that is overloaded_error', async () => {
    const head = heldHead()
    const fixture = named(anthropicFixtures, 'a 529 overloaded answer before the stream')
    target.server.use(fixtureHandler(fixture, { headAfter: head.opened }))
    const client = new Anthropic({
      baseURL: target.proxy.url,
      apiKey: 'unused',
      fetch: directFetch,
      maxRetries: 0,
    })
    const stream = await client.messages.create({
      model: 'claude-haiku-4-5',
      max_tokens: 1024,
      messages,
      stream: true,
    })
    head.open()
    const seen: string[] = []
    const error = await (async () => {
      for await (const event of stream) seen.push(event.type)
    })().catch((caught: unknown) => caught)
    expect(seen).toEqual(['message_start'])
    expect(error).toBeInstanceOf(Anthropic.APIError)
    expect(error).toMatchObject({ type: 'overloaded_error' })
  })
})
