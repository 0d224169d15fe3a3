// A bug inside the proxy (not an upstream failure) reaches an SDK as the API's own server error
// that says "do not retry": the same request sent again meets the same bug. The openai and
// Anthropic SDKs retry 408, 409, 429 and every 5xx by themselves unless the answer carries
// `x-should-retry: false`, so each request is counted as it leaves the SDK. The bug is a fault
// where the proxy cannot expect one: its log destination throws as a generation starts.
import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import { describe, expect, it } from 'vitest'
import { directFetch, useTestProxy } from '../test-proxy'
import { anthropicClient, readMessages } from './anthropic-test-kit'
import { openAIClient, readText } from './openai-test-kit'

const messages = [{ role: 'user' as const, content: 'Explain resumable streams' }]
const model = 'simulated'
// The SDKs' own default; with it a retryable answer would be sent three times.
const maxRetries = 2

/** For the enclosing `describe`: a proxy whose logger throws while it writes the line `msg`. */
function useFailingProxy(msg: string) {
  return useTestProxy([], {
    onLog: (line) => {
      if (line.msg === msg) throw new TypeError('injected: the log destination failed')
    },
  })
}

/** A fetch that counts the requests an SDK sends. */
function countedFetch() {
  const counted = {
    requests: 0,
    fetch: ((input, init) => {
      counted.requests += 1
      return directFetch(input, init)
    }) as typeof fetch,
  }
  return counted
}

describe('before the answer began (stream: false)', () => {
  const running = useFailingProxy('generation started')

  it('the openai SDK gets one 500 internal-error and does not retry it', async () => {
    const sent = countedFetch()
    const error = await openAIClient(running.proxy, { maxRetries, fetch: sent.fetch })
      .chat.completions.create({ model, messages })
      .catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(OpenAI.InternalServerError)
    expect(error).toMatchObject({ status: 500, code: 'internal-error', type: 'server_error' })
    expect(sent.requests).toBe(1)
    // Logged once, with its cause; the client is told nothing of it (it may hold secrets).
    expect((error as Error).message).not.toContain('injected')
    expect(running.proxy.logs.filter((line) => line.msg === 'request failed')).toMatchObject([
      { err: { message: 'injected: the log destination failed' } },
    ])
  })

  it('the Anthropic SDK gets one 500 api_error and does not retry it', async () => {
    const sent = countedFetch()
    const error = await anthropicClient(running.proxy, { maxRetries, fetch: sent.fetch })
      .messages.create({ model, max_tokens: 1024, messages })
      .catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(Anthropic.InternalServerError)
    expect(error).toMatchObject({ status: 500, error: { error: { type: 'api_error' } } })
    expect(sent.requests).toBe(1)
  })
})

describe('after the answer began (stream: true)', () => {
  const running = useFailingProxy('stream started')

  it('the openai SDK throws an internal-error chunk, once', async () => {
    const sent = countedFetch()
    const stream = await openAIClient(running.proxy, {
      maxRetries,
      fetch: sent.fetch,
    }).chat.completions.create({
      model,
      messages,
      stream: true,
    })
    const { text, error } = await readText(stream)
    expect(text).toBe('')
    expect(error).toBeInstanceOf(OpenAI.APIError)
    expect(error).toMatchObject({ code: 'internal-error', type: 'server_error' })
    expect(sent.requests).toBe(1)
  })

  it('the Anthropic SDK throws api_error, not the overloaded_error that agents retry', async () => {
    const sent = countedFetch()
    const stream = await anthropicClient(running.proxy, {
      maxRetries,
      fetch: sent.fetch,
    }).messages.create({
      model,
      max_tokens: 1024,
      messages,
      stream: true,
    })
    const { text, stopped, error } = await readMessages(stream)
    expect({ text, stopped }).toEqual({ text: '', stopped: false })
    expect(error).toBeInstanceOf(Anthropic.APIError)
    expect(error).toMatchObject({ type: 'api_error' })
    expect(sent.requests).toBe(1)
  })
})
