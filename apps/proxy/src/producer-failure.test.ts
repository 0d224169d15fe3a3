// A bug-class error anywhere in a producer (here its log destination throws as the generation
// starts) must not leave the upstream it opened running to its idle timeout, nor its stream
// counted as active: a live proxy on loopback in front of an msw-mocked OpenAI-compatible upstream.
import { waitFor } from '@unbroken/test-kit'
import { describe, expect, it } from 'vitest'
import { postChat } from './formats/openai-test-kit'
import { directFetch, type TestProxy, useMockedUpstream } from './test-proxy'
import { pacedHandler } from './upstreams/fixtures/mock'
import { openaiStream } from './upstreams/fixtures/openai'

const failingLines = new Set(['stream started', 'generation started'])
const target = useMockedUpstream('openai', ['--keepalive', '50ms'], {
  onLog: (line) => {
    if (failingLines.has(line.msg as string)) throw new TypeError('injected: the log failed')
  },
})

const messages = [{ role: 'user' as const, content: 'Tell me' }]

async function activeStreams(proxy: TestProxy): Promise<number> {
  const text = await (await directFetch(`${proxy.url}/metrics`)).text()
  return Number(/^unbroken_proxy_active_streams (\S+)$/m.exec(text)?.[1])
}

describe('a producer that fails as its stream starts', () => {
  it('aborts the upstream it opened (in prefill) and counts no active stream', async () => {
    let upstream: Request | undefined
    // Never answers: only an abort ends this upstream request before the idle timeout.
    target.server.use(pacedHandler('openai', undefined, { onRequest: (r) => (upstream = r) }))
    const response = await postChat(target.proxy, { model: 'm', messages, stream: true })
    await response.text()
    await waitFor(() => upstream?.signal.aborted, { what: 'the upstream request to be aborted' })
    await waitFor(async () => (await activeStreams(target.proxy)) === 0, {
      what: 'no active stream',
    })
  })

  it('aborts the upstream mid-answer', async () => {
    let upstream: Request | undefined
    const tokens = Array.from({ length: 200 }, (_, i) => `t${i} `)
    target.server.use(
      pacedHandler('openai', openaiStream(tokens), {
        gapMs: 20,
        onRequest: (r) => (upstream = r),
      }),
    )
    const response = await postChat(target.proxy, { model: 'm', messages, stream: true })
    await response.text()
    await waitFor(() => upstream?.signal.aborted, { what: 'the upstream request to be aborted' })
    await waitFor(async () => (await activeStreams(target.proxy)) === 0, {
      what: 'no active stream',
    })
  })
})

describe('a non-streaming generation that fails as it starts', () => {
  it('counts no active stream', async () => {
    target.server.use(pacedHandler('openai', openaiStream(['Hello'])))
    const response = await postChat(target.proxy, { model: 'm', messages })
    expect(response.status).toBe(500)
    await waitFor(async () => (await activeStreams(target.proxy)) === 0, {
      what: 'no active stream',
    })
  })
})
