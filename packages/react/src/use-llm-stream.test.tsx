import { act, waitFor } from '@testing-library/react'
import { UnbrokenClientError } from '@unbroken/client'
import { useEffect } from 'react'
import { afterEach, beforeEach, expect, it } from 'vitest'
import { expectedText, type LLMServer, startLLMServer } from '../test/llm-server'
import { renderHookCounted } from '../test/render'
import { type LLMStatus, type LLMStreamOptions, useLLMStream } from './index'

let server: LLMServer
beforeEach(async () => {
  server = await startLLMServer()
})
afterEach(async () => {
  await server.close()
})

const chat = (options: Partial<LLMStreamOptions> = {}) =>
  renderHookCounted(() => useLLMStream({ api: server.api, ...options }))

/** Every status the hook rendered, in order, without repeats. */
function statusTrail(latest: { current: { status: LLMStatus } }) {
  const trail: LLMStatus[] = []
  const record = () => {
    if (trail.at(-1) !== latest.current.status) trail.push(latest.current.status)
  }
  return { trail, record }
}

it('sends one POST from a mount effect under StrictMode, which runs the effect twice', async () => {
  const { latest } = renderHookCounted(
    () => {
      const stream = useLLMStream({ api: server.api })
      useEffect(() => stream.send({ tokens: 4 }), [stream.send])
      return stream
    },
    { strict: true },
  )
  await waitFor(() => expect(latest.current.status).toBe('done'))
  expect(latest.current.text).toBe(expectedText(4))
  expect(server.requests.map(({ method }) => method)).toEqual(['POST'])
})

it('sends one POST, and one DELETE for the stream it replaces, from an event handler under StrictMode', async () => {
  const { latest } = renderHookCounted(() => useLLMStream({ api: server.api }), { strict: true })
  act(() => latest.current.send({ tokens: 6, holdAfter: 2 }))
  await waitFor(() => expect(latest.current.text).toBe(expectedText(2)))
  act(() => latest.current.send({ tokens: 3 }))
  await waitFor(() => expect(latest.current.status).toBe('done'))
  expect(latest.current.text).toBe(expectedText(3))
  expect(server.requests.map(({ method }) => method)).toEqual(['POST', 'DELETE', 'POST'])
})

it('is idle before the first send, with no request made', async () => {
  const { latest } = chat()
  expect(latest.current).toMatchObject({ status: 'idle', text: '', error: undefined })
  expect(server.requests).toEqual([])
})

it('POSTs the body as JSON and shows the streamed text, usage and finish reason', async () => {
  const { latest } = chat()
  act(() => latest.current.send({ tokens: 25 }))
  await waitFor(() => expect(latest.current.status).toBe('done'))
  expect(latest.current).toMatchObject({
    text: expectedText(25),
    usage: { inputTokens: 3, outputTokens: 25 },
    finishReason: 'stop',
    tokens: 25,
  })
  expect(server.requests.map(({ method }) => method)).toEqual(['POST'])
})

it('goes waiting → streaming → done, waiting through a long prefill', async () => {
  const { latest } = chat()
  // The first token waits for release(): a prefill as long as the test needs.
  act(() => latest.current.send({ tokens: 5, holdAfter: 0 }))
  // The response opened (the POST was accepted, `meta` arrived) and still no token: "thinking".
  await waitFor(() => expect(server.openConnections).toBe(1))
  await new Promise((resolve) => setTimeout(resolve, 100))
  expect(latest.current).toMatchObject({ status: 'waiting', text: '' })
  server.release()
  await waitFor(() => expect(latest.current.status).toBe('done'))
  expect(latest.current.text).toBe(expectedText(5))
})

it('shows streaming between the first token and the end', async () => {
  const { latest } = chat()
  act(() => latest.current.send({ tokens: 6, holdAfter: 3 }))
  await waitFor(() => expect(latest.current.text).toBe(expectedText(3)))
  expect(latest.current.status).toBe('streaming')
  server.release()
  await waitFor(() => expect(latest.current.status).toBe('done'))
})

it('measures time to first token and tokens per second', async () => {
  const { latest } = chat()
  act(() => latest.current.send({ tokens: 20, prefillMs: 100, pauseMs: 5 }))
  await waitFor(() => expect(latest.current.status).toBe('done'))
  const { metrics, firstTokenAt, lastTokenAt, sentAt } = latest.current
  expect(metrics.timeToFirstToken).toBe((firstTokenAt as number) - sentAt)
  expect(metrics.timeToFirstToken).toBeGreaterThanOrEqual(100)
  expect(metrics.tokensPerSecond).toBe(
    (19 * 1000) / ((lastTokenAt as number) - (firstTokenAt as number)),
  )
  expect(metrics).toMatchObject({ reconnects: 0, replayed: 0 })
})

it('reports an error event as a typed UnbrokenClientError with the server code', async () => {
  const { latest } = chat()
  act(() => latest.current.send({ tokens: 4, fail: true }))
  await waitFor(() => expect(latest.current.status).toBe('error'))
  expect(latest.current.error).toBeInstanceOf(UnbrokenClientError)
  expect(latest.current.error).toMatchObject({
    code: 'server-error',
    serverCode: 'upstream-truncated',
  })
  expect(latest.current.text).toBe(expectedText(4))
})

it('fails with a typed error when the endpoint refuses the POST', async () => {
  const { latest } = chat({ api: `${server.origin}/nowhere/else` })
  act(() => latest.current.send({ tokens: 4 }))
  await waitFor(() => expect(latest.current.status).toBe('error'))
  expect(latest.current.error).toMatchObject({ code: 'http-status', status: 404 })
})

it('stops the running stream when send is called again, then streams the new one', async () => {
  const { latest } = chat()
  act(() => latest.current.send({ tokens: 10, holdAfter: 2 }))
  await waitFor(() => expect(latest.current.text).toBe(expectedText(2)))
  act(() => latest.current.send({ tokens: 3 }))
  await waitFor(() => expect(latest.current.status).toBe('done'))
  expect(latest.current.text).toBe(expectedText(3))
  await waitFor(() => expect([...server.stopped.values()]).toEqual(['cancelled']))
  expect(server.requests.map(({ method }) => method)).toEqual(['POST', 'DELETE', 'POST'])
})

it('resets to idle with no text, stopping a stream still running', async () => {
  const { latest } = chat()
  act(() => latest.current.send({ tokens: 10, holdAfter: 2 }))
  await waitFor(() => expect(latest.current.text).toBe(expectedText(2)))
  act(() => latest.current.reset())
  expect(latest.current).toMatchObject({ status: 'idle', text: '', tokens: 0 })
  await waitFor(() => expect([...server.stopped.values()]).toEqual(['cancelled']))
  await waitFor(() => expect(server.openConnections).toBe(0))
})

it('retry after an error event sends the same body again, as a new stream', async () => {
  const { latest } = chat()
  act(() => latest.current.send({ tokens: 3, fail: true }))
  await waitFor(() => expect(latest.current.status).toBe('error'))
  act(() => latest.current.retry())
  await waitFor(() => expect(latest.current.status).toBe('error'))
  expect(latest.current.text).toBe(expectedText(3))
  expect(server.requests.map(({ method }) => method)).toEqual(['POST', 'POST'])
})

it('retry after done or a stop sends nothing: it would start another generation', async () => {
  const { latest } = chat()
  act(() => latest.current.send({ tokens: 3 }))
  await waitFor(() => expect(latest.current.status).toBe('done'))
  act(() => latest.current.retry())
  act(() => latest.current.send({ tokens: 6, holdAfter: 2 }))
  await waitFor(() => expect(latest.current.text).toBe(expectedText(2)))
  await act(() => latest.current.stop())
  await waitFor(() => expect(latest.current.status).toBe('stopped'))
  act(() => latest.current.retry())
  await new Promise((resolve) => setTimeout(resolve, 50))
  expect(latest.current.status).toBe('stopped')
  expect(server.requests.map(({ method }) => method)).toEqual(['POST', 'POST', 'DELETE'])
})

it('walks the statuses in order and renders no status that did not happen', async () => {
  const { latest } = chat()
  const { trail, record } = statusTrail(latest)
  record()
  act(() => latest.current.send({ tokens: 5, holdAfter: 1 }))
  record()
  await waitFor(() => expect(latest.current.text).toBe(expectedText(1)))
  record()
  server.release()
  await waitFor(() => expect(latest.current.status).toBe('done'))
  record()
  expect(trail).toEqual(['idle', 'waiting', 'streaming', 'done'])
})
