// An SDK that stops reading mid-answer (its consumer stalls, so the socket backs up) is cut once
// the drain timeout passes: its connection cannot hold the proxy's memory or its generation. The
// proxy stays up, counts the cut, logs it once, and the generation still finishes into the log,
// where the answer's Content-Location serves all of it. msw plays an OpenAI-compatible upstream
// that answers more than loopback buffers absorb; the client is the real openai SDK.
import { parseSse, waitFor } from '@unbroken/test-kit'
import { describe, expect, it } from 'vitest'
import { directFetch, useMockedUpstream } from '../test-proxy'
import { assembleChunks, bulkAnswer, openAIClient, readText } from './openai-test-kit'

// About 7.5 MB of numbered words, so that any loss shows in the text.
const TEXT = Array.from({ length: 1_500_000 }, (_, i) => i.toString(36)).join(' ')
const request = { model: 'gpt-test', messages: [{ role: 'user' as const, content: 'Say a lot' }] }
const CUT = 'answer cut: the client stopped reading'

describe('an SDK that stops reading', () => {
  const upstream = useMockedUpstream('openai', ['--drain-timeout', '500ms'])

  it('is cut after the drain timeout; the cut is counted and logged once; the log gets the whole answer', async () => {
    const { proxy, server } = upstream
    // The upstream ends only after the cut, so that the generation outlives the connection.
    let cut = () => {}
    server.use(bulkAnswer(TEXT, new Promise<void>((resolve) => (cut = resolve))))
    const { data, response } = await openAIClient(proxy)
      .chat.completions.create({ ...request, stream: true })
      .withResponse()
    const chunks = data[Symbol.asyncIterator]()
    await chunks.next()
    // ...and reads nothing more until the proxy has cut it.
    await waitFor(() => proxy.logs.some((line) => line.msg === CUT), { what: 'the cut' })
    cut()

    const metrics = await (await directFetch(`${proxy.url}/metrics`)).text()
    expect(metrics).toMatch(/^unbroken_proxy_slow_client_disconnects_total 1$/m)
    expect(metrics).toMatch(/^unbroken_proxy_drain_timeouts_total 1$/m)
    // What it then reads ends in an error, never in a silently short answer.
    const { text, error } = await readText({ [Symbol.asyncIterator]: () => chunks })
    expect(error).toBeInstanceOf(Error)
    expect(text.length).toBeLessThan(TEXT.length)

    await waitFor(() => proxy.records().length === 1, { what: 'the generation to end' })
    expect(proxy.records()[0]).toMatchObject({ end: 'finished' })
    const location = response.headers.get('content-location')
    // Read whole before parsing: a reader that parses as it goes may itself fall 500 ms behind.
    const logged = parseSse(await (await directFetch(`${proxy.url}${location}`)).text())
    const { text: whole, done } = assembleChunks(logged)
    expect(done).toBe(true)
    // Compared whole, not printed: a diff of megabytes says nothing more than the lengths.
    expect(whole.length).toBe(TEXT.length)
    expect(whole === TEXT).toBe(true)
    expect(proxy.logs.filter((line) => line.msg === CUT)).toHaveLength(1)
  })
})
