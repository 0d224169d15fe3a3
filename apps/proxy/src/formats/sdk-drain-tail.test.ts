// SIGTERM while an SDK's answer has finished into the log but is still on its way to the client:
// the proxy waits for such answers to be sent (`sdkStreams.settled`, for what is left of the grace)
// before it closes connections, or the client would lose the tail of its answer and its `[DONE]`. msw plays an OpenAI-compatible
// upstream that answers more than loopback buffers absorb, so that the answer is still under way
// when the drain begins. The client asks as the SDKs do (not for text/event-stream) and reads the
// wire itself, because the wire (the tail and the terminal chunk) is what this is about.
import { readSse, waitFor } from '@unbroken/test-kit'
import { describe, expect, it } from 'vitest'
import { useMockedUpstream } from '../test-proxy'
import { assembleChunks, bulkAnswer, postChat } from './openai-test-kit'

// About 5.9 MB of numbered words, so that any loss shows in the text.
const TEXT = Array.from({ length: 1_200_000 }, (_, i) => i.toString(36)).join(' ')
const request = { model: 'gpt-test', messages: [{ role: 'user', content: 'Say a lot' }] }

describe('a drain while an SDK answer is still on its way', () => {
  // The grace bounds the time the tail may take: far more than 5.9 MB over loopback needs, even
  // on a loaded machine (a fixed 2 s, as before, was a race with the reader).
  const upstream = useMockedUpstream('openai', ['--shutdown-grace', '20s'])

  it('sends the rest of the answer and its [DONE] before it closes the connection', async () => {
    const { proxy, server } = upstream
    server.use(bulkAnswer(TEXT))
    const answer = readSse(await postChat(proxy, { ...request, stream: true }))
    const first = await answer.take(1)
    // The client reads nothing more until the whole answer is in the log and the drain began.
    await waitFor(() => proxy.records().length === 1, { what: 'the generation to end' })
    const stopping = proxy.shutdown()
    const rest = await answer.rest()
    await stopping
    expect(rest.at(-1)?.data).toBe('[DONE]')
    const { text } = assembleChunks([...first, ...rest])
    // Compared whole, not printed: a diff of megabytes says nothing more than the lengths.
    expect(text.length).toBe(TEXT.length)
    expect(text === TEXT).toBe(true)
  })
})
