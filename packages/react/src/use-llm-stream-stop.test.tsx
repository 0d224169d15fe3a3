// Stop is not disconnect: stop() is the authorised DELETE that ends the generation; unmounting
// closes the connection and leaves the generation running, unless stopOnUnmount.
import { act, waitFor } from '@testing-library/react'
import { afterEach, beforeEach, expect, it, onTestFinished } from 'vitest'
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

const chat = (options: Partial<LLMStreamOptions> = {}) =>
  renderHookCounted(() => useLLMStream({ api: server.api, ...options }))

const methods = () => server.requests.map(({ method }) => method)

it('stop() sends an authorised DELETE that reaches the producer, and the status is stopped', async () => {
  server.issueToken('secret')
  const { latest } = chat({ headers: () => ({ authorization: 'Bearer secret' }) })
  act(() => latest.current.send({ tokens: 10, holdAfter: 3 }))
  await waitFor(() => expect(latest.current.text).toBe(expectedText(3)))
  await act(() => latest.current.stop())
  await waitFor(() => expect(latest.current.status).toBe('stopped'))
  expect([...server.stopped.values()]).toEqual(['cancelled'])
  expect(latest.current).toMatchObject({ text: expectedText(3), finishReason: 'cancelled' })
  const cancel = server.requests.find(({ method }) => method === 'DELETE')
  expect(cancel).toMatchObject({
    path: new URL(server.streams[0] as string).pathname,
    authorization: 'Bearer secret',
  })
})

it('stop() before the server answered the POST cancels as soon as it does', async () => {
  const { latest } = chat()
  act(() => latest.current.send({ tokens: 10, holdAfter: 3 }))
  await act(() => latest.current.stop())
  await waitFor(() => expect(latest.current.status).toBe('stopped'))
  expect([...server.stopped.values()]).toEqual(['cancelled'])
  expect(methods()).toEqual(['POST', 'DELETE'])
})

it('a DELETE the server refuses ends the connection with the error', async () => {
  server.issueToken('secret')
  let token = 'secret'
  const { latest } = chat({ headers: () => ({ authorization: `Bearer ${token}` }) })
  act(() => latest.current.send({ tokens: 10, holdAfter: 3 }))
  await waitFor(() => expect(latest.current.text).toBe(expectedText(3)))
  token = 'wrong'
  await act(() => latest.current.stop())
  expect(latest.current.status).toBe('error')
  expect(latest.current.error).toMatchObject({ code: 'http-status', status: 401 })
  await waitFor(() => expect(server.openConnections).toBe(0))
  expect(server.stopped.size).toBe(0)
})

it('unmounting closes the connection and leaves the generation running', async () => {
  const { latest, unmount } = chat()
  act(() => latest.current.send({ tokens: 10, holdAfter: 3 }))
  await waitFor(() => expect(latest.current.text).toBe(expectedText(3)))
  expect(server.openConnections).toBe(1)
  unmount()
  await waitFor(() => expect(server.openConnections).toBe(0))
  server.release()
  // The producer ran on into the log: a GET of the stream replays every token.
  const response = await fetch(server.streams[0] as string)
  expect(await response.text()).toContain('"finishReason":"stop"')
  expect(server.stopped.size).toBe(0)
  expect(methods()).toEqual(['POST', 'GET'])
})

it('with stopOnUnmount, unmounting also stops the generation', async () => {
  const { latest, unmount } = chat({ stopOnUnmount: true })
  act(() => latest.current.send({ tokens: 10, holdAfter: 3 }))
  await waitFor(() => expect(latest.current.text).toBe(expectedText(3)))
  unmount()
  await waitFor(() => expect([...server.stopped.values()]).toEqual(['cancelled']))
  await waitFor(() => expect(server.openConnections).toBe(0))
})

it('stop() after the stream ended sends nothing', async () => {
  const { latest } = chat()
  act(() => latest.current.send({ tokens: 3 }))
  await waitFor(() => expect(latest.current.status).toBe('done'))
  await act(() => latest.current.stop())
  expect(methods()).toEqual(['POST'])
  expect(latest.current.status).toBe('done')
})

it('send, stop and send again before the first POST was answered also stops the first generation', async () => {
  const held = await holdFirstAnswer(server)
  const { latest } = chat({ api: held.api })
  act(() => latest.current.send({ tokens: 10, holdAfter: 3 }))
  // The server started the first generation; its answer has not reached the page.
  await waitFor(() => expect(server.streams).toHaveLength(1))
  act(() => {
    void latest.current.stop()
    latest.current.send({ tokens: 3 })
  })
  await waitFor(() => expect(latest.current.status).toBe('done'))
  held.release()
  // The second stream ended by itself: the one cancelled is the first.
  await waitFor(() => expect([...server.stopped.values()]).toEqual(['cancelled']))
  expect(latest.current.text).toBe(expectedText(3))
  await held.close()
})

it('with stopOnUnmount, unmounting before the POST was answered stops the generation once it is', async () => {
  const held = await holdFirstAnswer(server)
  const { latest, unmount } = chat({ api: held.api, stopOnUnmount: true })
  act(() => latest.current.send({ tokens: 10, holdAfter: 3 }))
  await waitFor(() => expect(server.streams).toHaveLength(1))
  unmount()
  held.release()
  await waitFor(() => expect([...server.stopped.values()]).toEqual(['cancelled']))
  await waitFor(() => expect(server.openConnections).toBe(0))
  await held.close()
})

it('stop() while reconnecting ends as stopped without waiting out the backoff', async () => {
  // A backoff far longer than the wait below: only a stop that resumes at once can pass.
  const { latest } = chat({ shouldRetry: () => 60_000 })
  act(() => latest.current.send({ tokens: 10, holdAfter: 3 }))
  await waitFor(() => expect(latest.current.text).toBe(expectedText(3)))
  server.cut()
  await waitFor(() => expect(latest.current.status).toBe('reconnecting'))
  await act(() => latest.current.stop())
  await waitFor(() => expect(latest.current.status).toBe('stopped'))
  expect([...server.stopped.values()]).toEqual(['cancelled'])
  expect(latest.current.text).toBe(expectedText(3))
})

it('a stream replaced while its stop() waited, whose POST then fails, leaves the new one saved', async () => {
  const held = await holdFirstAnswer(server)
  onTestFinished(held.close)
  const { latest } = chat({ api: held.api, id: 'replaced' })
  act(() => latest.current.send({ tokens: 10, holdAfter: 3 }))
  await waitFor(() => expect(server.streams).toHaveLength(1))
  act(() => {
    void latest.current.stop()
    latest.current.send({ tokens: 6, holdAfter: 2 })
  })
  await waitFor(() => expect(latest.current.text).toBe(expectedText(2)))
  // The saved URL goes through the proxy: its path names the stream.
  const savedPath = () =>
    new URL(JSON.parse(sessionStorage.getItem('unbroken:replaced') ?? '{}').url ?? 'x:').pathname
  const secondPath = new URL(server.streams[1] ?? 'x:').pathname
  expect(savedPath()).toBe(secondPath)
  held.cut()
  await waitFor(() => expect(held.closed).toBe(true))
  // The first stream's failure is handled in the tasks right after its socket closed.
  await new Promise((resolve) => setTimeout(resolve, 50))
  expect(savedPath()).toBe(secondPath)
})
