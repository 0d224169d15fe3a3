// A stream whose log completes without a terminal event (it aged out, or another instance closed
// it after its producer died). An SDK reading it cannot resume, so its answer must end at once in
// the API's own error: never hang on a log that has nothing more to give, and never end cleanly
// after partial output. A real proxy on loopback, on a real memory log that the test completes.
import Anthropic from '@anthropic-ai/sdk'
import { createMemoryEventLog, type EventLog } from '@unbroken/server'
import OpenAI from 'openai'
import { describe, expect, it } from 'vitest'
import { useTestProxy } from '../test-proxy'
import { anthropicClient, readMessages } from './anthropic-test-kit'
import { openAIClient, readText } from './openai-test-kit'

// The simulated model sends three tokens, then nothing until it is stopped: it never ends the
// stream itself, so the log's completion is the only ending.
const STALL = { 'x-unbroken-fault': 'stall-after=3' }
const messages = [{ role: 'user' as const, content: 'Explain resumable streams' }]
const model = 'simulated'

describe('a log that completes without a terminal event', () => {
  const log: EventLog = createMemoryEventLog()
  const running = useTestProxy([], { eventLog: log })

  /** Completes the stream of the answer that carried `response`, as its log would on its own. */
  const completeInLog = (response: Response) =>
    log.complete(response.headers.get('content-location')?.split('/').pop() ?? '')

  it('makes the openai SDK throw producer-lost after the partial text', async () => {
    const { data, response } = await openAIClient(running.proxy)
      .chat.completions.create({ model, messages, stream: true }, { headers: STALL })
      .withResponse()
    const { text, error } = await readText(data, () => completeInLog(response))
    expect(text).not.toBe('')
    expect(error).toBeInstanceOf(OpenAI.APIError)
    expect(error).toMatchObject({ code: 'producer-lost', type: 'server_error' })
  })

  it('makes the Anthropic SDK throw overloaded_error (a new request may succeed), no message_stop', async () => {
    const { data, response } = await anthropicClient(running.proxy)
      .messages.create({ model, max_tokens: 1024, messages, stream: true }, { headers: STALL })
      .withResponse()
    const { text, stopped, error } = await readMessages(data, () => completeInLog(response))
    expect(text).not.toBe('')
    expect(stopped).toBe(false)
    expect(error).toBeInstanceOf(Anthropic.APIError)
    expect(error).toMatchObject({ type: 'overloaded_error' })
  })
})
