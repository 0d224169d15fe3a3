// The session store's stop and replace, against a real loopback server that counts what it is sent.
import type { ServerResponse } from 'node:http'
import { describe, expect, it, vi } from 'vitest'
import { formatEvent, openStream, useServer } from '../test/server'
import type { UnbrokenClientError } from './errors'
import { createLLMState, deriveLLMView, type LLMState, reduceLLMEvent } from './llm'
import { createStreamSession, type StreamRequestKey } from './session'

const { start } = useServer()

/** A session folding each event's data into a list, as a UI binding would; `errors` are reported. */
const createSession = () => {
  const errors: UnbrokenClientError[] = []
  const session = createStreamSession<string[]>(() => ({
    reducer: (state, event) => [...state, event.data],
    initialState: [],
    backoff: { initialMs: 0 },
    onError: (error) => errors.push(error),
  }))
  /** Subscribes to `request` as a mounted component does; the result unmounts it. */
  const mount = (request: StreamRequestKey) => session.subscribe(request, () => {})
  return { session, errors, mount }
}

it('a stream replaced while its stop() waits for the POST answer never sends that POST again', async () => {
  const held: ServerResponse[] = []
  // Holds every POST unanswered; the test cuts the first one without an answer.
  const server = await start((_, res) => void held.push(res))
  const { session, errors, mount } = createSession()
  const unmountFirst = mount({ url: `${server.origin}/s`, method: 'POST', body: 'first' })
  await server.waitForRequests(1)
  void session.stop()
  // A new send while that stop waits: the binding subscribes to the new request in the same task.
  unmountFirst()
  const unmount = mount({ url: `${server.origin}/s`, method: 'POST', body: 'second' })
  await server.waitForRequests(2)
  unmount()
  // The first POST fails without an answer: a keyed POST would be re-sent to attach to its work.
  held[0]?.destroy()
  await vi.waitFor(() => expect(server.requests.length > 2 || errors.length > 0).toBe(true))
  expect(server.requests.map(({ method, body }) => `${method} ${body}`)).toEqual([
    'POST first',
    'POST second',
  ])
  // Both carried a key, so the cut one was re-sendable: only being replaced kept it from that.
  expect(server.requests.every(({ headers }) => headers['idempotency-key'])).toBe(true)
})

it('the stream still shown re-sends its cut keyed POST with the same key', async () => {
  // Only a replaced or unmounted stream gives up its retries; the one on screen keeps them.
  const server = await start((_, res, index) => {
    if (index === 0) res.destroy()
    else res.writeHead(204).end()
  })
  const { errors, mount } = createSession()
  const unmount = mount({ url: `${server.origin}/s`, method: 'POST', body: 'first' })
  await vi.waitFor(() => expect(server.requests.length > 1 || errors.length > 0).toBe(true))
  unmount()
  expect(server.requests.map(({ method, body }) => `${method} ${body}`)).toEqual([
    'POST first',
    'POST first',
  ])
  const [cut, again] = server.requests
  expect(again?.headers['idempotency-key']).toBe(cut?.headers['idempotency-key'])
})

describe("stop() pressed while the stream's final error is in flight", () => {
  /**
   * A server whose POST opens a stream with one token and holds it, and whose DELETE waits for
   * `answerDelete()`: the test sends the stream's final error when it chooses.
   */
  const startHeld = async () => {
    let stream: ServerResponse | undefined
    let deleted: ServerResponse | undefined
    const server = await start(({ method }, res) => {
      if (method === 'DELETE') {
        deleted = res
        return
      }
      stream = res
      openStream(res, { 'content-location': '/s/1' })
      res.write(formatEvent({ id: '1', event: 'delta', data: '{"text":"a"}' }))
    })
    return {
      server,
      failStream: () =>
        stream?.end(
          formatEvent({
            id: '2',
            event: 'error',
            data: '{"code":"upstream-failed","message":"The model failed.","retryable":false}',
          }),
        ),
      answerDelete: () => deleted?.writeHead(204).end(),
    }
  }

  const chat = () =>
    createStreamSession<LLMState>(() => ({ reducer: reduceLLMEvent, initialState: createLLMState }))

  it.each([
    ['arrives before the DELETE is answered', true],
    ['arrives after the DELETE was answered', false],
  ])('shows the stream as stopped when the error %s', async (_, errorFirst) => {
    const { server, failStream, answerDelete } = await startHeld()
    const session = chat()
    session.subscribe({ url: `${server.origin}/s`, method: 'POST', body: '{}' }, () => {})
    await vi.waitFor(() => expect(session.getSnapshot().state.text).toBe('a'))
    const stopping = session.stop()
    await server.waitForRequests(2)
    const failed = async () => {
      failStream()
      await vi.waitFor(() => expect(session.getSnapshot().status).toBe('closed'))
    }
    if (errorFirst) await failed()
    answerDelete()
    await stopping
    if (!errorFirst) await failed()
    const view = session.getSnapshot()
    expect(view).toMatchObject({ closeReason: 'aborted', error: undefined })
    expect(deriveLLMView(view).status).toBe('stopped')
    expect(server.requests.map(({ method }) => method)).toEqual(['POST', 'DELETE'])
  })

  it("shows the next request's own failure as an error, not as the earlier stop", async () => {
    const { server, failStream, answerDelete } = await startHeld()
    const session = chat()
    session.subscribe({ url: `${server.origin}/s`, method: 'POST', body: '1' }, () => {})
    await vi.waitFor(() => expect(session.getSnapshot().state.text).toBe('a'))
    const stopping = session.stop()
    await server.waitForRequests(2)
    answerDelete()
    await stopping
    session.subscribe({ url: `${server.origin}/s`, method: 'POST', body: '2' }, () => {})
    await vi.waitFor(() => expect(session.getSnapshot()).toMatchObject({ status: 'open' }))
    failStream()
    await vi.waitFor(() => expect(session.getSnapshot().status).toBe('closed'))
    expect(session.getSnapshot()).toMatchObject({ closeReason: 'error' })
    expect(deriveLLMView(session.getSnapshot()).status).toBe('error')
  })
})
