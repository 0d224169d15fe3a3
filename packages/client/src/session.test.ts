// The session store's stop and replace, against a real loopback server that counts what it is sent.
import type { ServerResponse } from 'node:http'
import { expect, it, vi } from 'vitest'
import { useServer } from '../test/server'
import type { UnbrokenClientError } from './errors'
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
