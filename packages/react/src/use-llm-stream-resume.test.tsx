// Exactly once across drops, reloads and auth refresh: the text equals the source, with no gap and
// no repeat, and a re-attach is a GET from the saved position, never a second POST.
import { act, waitFor } from '@testing-library/react'
import { afterEach, beforeEach, expect, it, onTestFinished, vi } from 'vitest'
import { expectedText, holdFirstAnswer, type LLMServer, startLLMServer } from '../test/llm-server'
import { renderHookCounted } from '../test/render'
import { type LLMStreamOptions, useLLMStream } from './index'

let server: LLMServer
beforeEach(async () => {
  server = await startLLMServer()
  sessionStorage.clear()
})
afterEach(async () => {
  await server.close()
})

const chat = (options: Partial<LLMStreamOptions> = {}, strict = false) =>
  renderHookCounted(
    () => useLLMStream({ api: server.api, backoff: { initialMs: 0 }, ...options }),
    { strict },
  )

const methods = () => server.requests.map(({ method }) => method)

/** A page reload as the hook sees it: `pagehide`, then the component tree is gone. */
function reload(unmount: () => void) {
  dispatchEvent(new Event('pagehide'))
  unmount()
}

it('shows the exact text after the connection is cut three times mid-stream', async () => {
  const { latest } = chat()
  act(() => latest.current.send({ tokens: 120, pauseMs: 2 }))
  for (const atLeast of [20, 50, 80]) {
    await waitFor(() => expect(latest.current.tokens).toBeGreaterThanOrEqual(atLeast))
    server.cut()
  }
  await waitFor(() => expect(latest.current.status).toBe('done'))
  expect(latest.current.text).toBe(expectedText(120))
  expect(latest.current.metrics.reconnects).toBe(3)
  expect(methods().filter((method) => method === 'POST')).toHaveLength(1)
})

it('shows reconnecting while the connection is down', async () => {
  // The server's `retry:` hint is 10 ms: hold the reconnect long enough to be seen.
  const { latest } = chat({ shouldRetry: () => 1_000 })
  act(() => latest.current.send({ tokens: 6, holdAfter: 2 }))
  await waitFor(() => expect(latest.current.text).toBe(expectedText(2)))
  server.cut()
  await waitFor(() => expect(latest.current.status).toBe('reconnecting'))
  server.release()
  await waitFor(() => expect(latest.current.status).toBe('done'))
  expect(latest.current.text).toBe(expectedText(6))
})

it('re-attaches after a reload by GET from the saved position, never a second POST', async () => {
  const first = chat({ id: 'chat-1' })
  act(() => first.latest.current.send({ tokens: 30, holdAfter: 10 }))
  await waitFor(() => expect(first.latest.current.text).toBe(expectedText(10)))
  reload(first.unmount)
  const second = chat({ id: 'chat-1' })
  await waitFor(() => expect(second.latest.current.text).toBe(expectedText(10)))
  server.release()
  await waitFor(() => expect(second.latest.current.status).toBe('done'))
  expect(second.latest.current.text).toBe(expectedText(30))
  expect(methods()).toEqual(['POST', 'GET'])
  // The saved position: meta is event 1, token n is event n + 2.
  expect(server.requests[1]?.lastEventId).toBe('11')
})

it('re-attaches exactly once under StrictMode after a reload', async () => {
  const first = chat({ id: 'chat-2' }, true)
  act(() => first.latest.current.send({ tokens: 20, holdAfter: 5 }))
  await waitFor(() => expect(first.latest.current.text).toBe(expectedText(5)))
  reload(first.unmount)
  const second = chat({ id: 'chat-2' }, true)
  server.release()
  await waitFor(() => expect(second.latest.current.status).toBe('done'))
  expect(second.latest.current.text).toBe(expectedText(20))
  expect(methods()).toEqual(['POST', 'GET'])
})

it('is still waiting after a reload during the prefill', async () => {
  const first = chat({ id: 'chat-3' })
  // The first token waits for release(): a prefill that lasts as long as the test needs.
  act(() => first.latest.current.send({ tokens: 3, holdAfter: 0 }))
  // The response opened (the stream's URL is saved), and the model is still thinking.
  const saved = () => JSON.parse(sessionStorage.getItem('unbroken:chat-3') ?? '{}')
  await waitFor(() => expect(saved().url).toBe(server.streams[0]))
  reload(first.unmount)
  const second = chat({ id: 'chat-3' })
  await waitFor(() => expect(methods()).toEqual(['POST', 'GET']))
  expect(second.latest.current.status).toBe('waiting')
  server.release()
  await waitFor(() => expect(second.latest.current.status).toBe('done'))
  expect(second.latest.current.text).toBe(expectedText(3))
})

it('after a reload before the POST was answered, sends it again with the same key and shows the one generation', async () => {
  const held = await holdFirstAnswer(server)
  onTestFinished(held.close)
  const first = chat({ api: held.api, id: 'chat-7' })
  act(() => first.latest.current.send({ tokens: 20, holdAfter: 5 }))
  // The server started the generation; its answer has not reached the page.
  await waitFor(() => expect(server.streams).toHaveLength(1))
  reload(first.unmount)
  const second = chat({ api: held.api, id: 'chat-7' })
  await waitFor(() => expect(second.latest.current.text).toBe(expectedText(5)))
  server.release()
  await waitFor(() => expect(second.latest.current.status).toBe('done'))
  expect(second.latest.current.text).toBe(expectedText(20))
  expect(methods()).toEqual(['POST', 'POST'])
  const [sent, again] = server.requests
  expect(again?.idempotencyKey).toBe(sent?.idempotencyKey)
  expect(server.streams).toHaveLength(1)
})

it('with idempotencyKey: false, saves nothing before the POST was answered, and a reload sends nothing', async () => {
  const held = await holdFirstAnswer(server)
  onTestFinished(held.close)
  const options = { api: held.api, id: 'chat-8', idempotencyKey: false } as const
  const first = chat(options)
  act(() => first.latest.current.send({ tokens: 3 }))
  await waitFor(() => expect(server.streams).toHaveLength(1))
  expect(sessionStorage.getItem('unbroken:chat-8')).toBeNull()
  reload(first.unmount)
  const second = chat(options)
  await new Promise((resolve) => setTimeout(resolve, 50))
  expect(second.latest.current.status).toBe('idle')
  expect(methods()).toEqual(['POST'])
  expect(server.requests[0]?.idempotencyKey).toBeUndefined()
})

it('keeps the stream URL, the position and the state in sessionStorage under the id', async () => {
  const { latest, unmount } = chat({ id: 'chat-4' })
  act(() => latest.current.send({ tokens: 8, holdAfter: 4 }))
  await waitFor(() => expect(latest.current.text).toBe(expectedText(4)))
  dispatchEvent(new Event('pagehide'))
  const saved = JSON.parse(sessionStorage.getItem('unbroken:chat-4') ?? 'null')
  expect(saved).toMatchObject({
    url: expect.stringMatching(new RegExp(`^${server.api}/[\\w-]+$`)),
    lastEventId: '5',
    state: { text: expectedText(4), tokens: 4 },
  })
  unmount()
})

it('forgets the saved stream once it ended', async () => {
  const { latest } = chat({ id: 'chat-5' })
  act(() => latest.current.send({ tokens: 8, holdAfter: 4 }))
  await waitFor(() => expect(latest.current.text).toBe(expectedText(4)))
  dispatchEvent(new Event('pagehide'))
  expect(sessionStorage.getItem('unbroken:chat-5')).not.toBeNull()
  server.release()
  await waitFor(() => expect(latest.current.status).toBe('done'))
  expect(sessionStorage.getItem('unbroken:chat-5')).toBeNull()
})

it('stays idle on a mount with an id and nothing saved', async () => {
  const { latest } = chat({ id: 'chat-6' })
  await new Promise((resolve) => setTimeout(resolve, 50))
  expect(latest.current.status).toBe('idle')
  expect(server.requests).toEqual([])
})

it('keeps two hooks with different ids apart across a reload', async () => {
  const twoChats = () =>
    renderHookCounted(() => [
      useLLMStream({ api: server.api, id: 'left' }),
      useLLMStream({ api: server.api, id: 'right' }),
    ])
  const texts = (chats: { text: string }[]) => chats.map(({ text }) => text)
  const first = twoChats()
  act(() => {
    first.latest.current[0]?.send({ tokens: 12, holdAfter: 4 })
    first.latest.current[1]?.send({ tokens: 6, holdAfter: 2 })
  })
  await waitFor(() =>
    expect(texts(first.latest.current)).toEqual([expectedText(4), expectedText(2)]),
  )
  reload(first.unmount)
  const second = twoChats()
  await waitFor(() => expect(methods()).toEqual(['POST', 'POST', 'GET', 'GET']))
  server.release()
  await waitFor(() =>
    expect(second.latest.current.map(({ status }) => status)).toEqual(['done', 'done']),
  )
  expect(texts(second.latest.current)).toEqual([expectedText(12), expectedText(6)])
})

it.each([
  [
    'disabled (reading it throws, as with blocked site data)',
    () =>
      vi.spyOn(window, 'sessionStorage', 'get').mockImplementation(() => {
        throw new DOMException('The operation is insecure.', 'SecurityError')
      }),
  ],
  [
    'full (every write throws, as in Safari private mode)',
    () =>
      vi.spyOn(Storage.prototype, 'setItem').mockImplementation(() => {
        throw new DOMException('The quota has been exceeded.', 'QuotaExceededError')
      }),
  ],
])('streams on, without persistence, when sessionStorage is %s', async (_, breakStorage) => {
  breakStorage()
  const { latest, unmount } = chat({ id: 'no-storage' })
  act(() => latest.current.send({ tokens: 8, holdAfter: 4 }))
  await waitFor(() => expect(latest.current.text).toBe(expectedText(4)))
  dispatchEvent(new Event('pagehide'))
  server.release()
  await waitFor(() => expect(latest.current.status).toBe('done'))
  expect(latest.current.text).toBe(expectedText(8))
  unmount()
})

it('refreshes an expired token through onAuthRequired and resumes with the new one', async () => {
  let token = 'first'
  server.issueToken(token)
  const refreshes: string[] = []
  const { latest } = chat({
    headers: async () => ({ authorization: `Bearer ${token}` }),
    onAuthRequired: async ({ reason }) => {
      refreshes.push(reason)
      token = 'second'
      server.issueToken(token)
    },
  })
  act(() => latest.current.send({ tokens: 12, holdAfter: 4 }))
  await waitFor(() => expect(latest.current.text).toBe(expectedText(4)))
  server.revokeToken('first')
  server.cut()
  await waitFor(() => expect(refreshes).toEqual(['unauthorized']))
  server.release()
  await waitFor(() => expect(latest.current.status).toBe('done'))
  expect(latest.current.text).toBe(expectedText(12))
  expect(server.requests.map(({ method, authorization }) => [method, authorization])).toEqual([
    ['POST', 'Bearer first'],
    ['GET', 'Bearer first'],
    ['GET', 'Bearer second'],
  ])
})

it('retry after the retries ran out re-attaches by GET and keeps the text exact', async () => {
  const { latest } = chat({ maxAttempts: 1 })
  act(() => latest.current.send({ tokens: 10, holdAfter: 4 }))
  await waitFor(() => expect(latest.current.text).toBe(expectedText(4)))
  server.cut()
  await waitFor(() => expect(latest.current.status).toBe('error'))
  expect(latest.current.error?.code).toBe('retries-exhausted')
  act(() => latest.current.retry())
  server.release()
  await waitFor(() => expect(latest.current.status).toBe('done'))
  expect(latest.current.text).toBe(expectedText(10))
  expect(methods()).toEqual(['POST', 'GET'])
})

it('lands a replay of 2,000 events after a resume in at most 2 commits', async () => {
  const response = await fetch(server.api, { method: 'POST', body: '{"tokens":2000}' })
  await response.text()
  sessionStorage.setItem(
    'unbroken:replayed',
    JSON.stringify({ url: server.streams[0], lastEventId: '', state: { text: '', tokens: 0 } }),
  )
  const { latest } = chat({ id: 'replayed' })
  const mounted = latest.commits.count
  await waitFor(() => expect(latest.current.status).toBe('done'))
  expect(latest.current.text).toBe(expectedText(2_000))
  expect(latest.commits.count - mounted).toBeLessThanOrEqual(2)
  // meta, 2,000 deltas, usage and done were all in the log: the server said so (A3).
  expect(latest.current.metrics.replayed).toBe(2_003)
})
