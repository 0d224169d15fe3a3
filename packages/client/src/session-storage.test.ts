// @vitest-environment jsdom
// The session store's persistence contract (`id`): what it saves in sessionStorage, how a reload
// re-attaches from it, when it forgets it, and that bad saved data is ignored without a throw.
// A real loopback server answers; a "reload" is a new session under the same id.
import type { ServerResponse } from 'node:http'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { doneEvent, formatEvent, openStream, type SeenRequest, useServer } from '../test/server'
import { createStreamSession, type StreamRequestKey } from './session'

const { start } = useServer()
const ID = 'chat'
const KEY = `unbroken:${ID}`

beforeEach(() => sessionStorage.clear())
// Every session of a test is unmounted after it: a mounted one would save itself on the next
// test's `pagehide`, under the same id.
const mounted: (() => void)[] = []
afterEach(async () => {
  for (const unmount of mounted.splice(0)) unmount()
  // The unmount is taken for good in a microtask (StrictMode's re-subscribe would come first).
  await Promise.resolve()
})

const saved = () => JSON.parse(sessionStorage.getItem(KEY) ?? 'null')

/** A session under `ID` folding each event's data into a list; `subscribe` mounts it. */
const createSession = () => {
  const session = createStreamSession<string[]>(() => ({
    id: ID,
    reducer: (state, event) => [...state, event.data],
    initialState: [],
    backoff: { initialMs: 0 },
  }))
  return {
    session,
    mount: (request: StreamRequestKey) => void mounted.push(session.subscribe(request, () => {})),
  }
}

/** Hides the page, as a tab switch or a reload does: the session saves its place. */
const hidePage = () => window.dispatchEvent(new Event('pagehide'))

/**
 * A stream server: a POST to `/s` opens stream `/s/1` with event `a` (id 1) and holds it; a GET of
 * `/s/1` sends the events after its Last-Event-ID of `a`, `b` (ids 1, 2) and holds, or with
 * `finish`, ends with `done`; a DELETE cancels it (the held stream ends with `done`).
 */
const startStreams = async ({ finish = false } = {}) => {
  const held: ServerResponse[] = []
  const server = await start((request: SeenRequest, res) => {
    if (request.method === 'DELETE') {
      for (const stream of held.splice(0)) stream.end(doneEvent)
      res.writeHead(204).end()
      return
    }
    openStream(res, { 'content-location': '/s/1' })
    const after = Number(request.lastEventId ?? 0)
    for (const [id, data] of [
      ['1', 'a'],
      ['2', 'b'],
    ] as const) {
      if (Number(id) > after && (request.method === 'GET' || id === '1'))
        res.write(formatEvent({ id, data }))
    }
    if (finish) res.end(doneEvent)
    else held.push(res)
  })
  return { server, post: { url: `${server.origin}/s`, method: 'POST', body: 'question' } }
}

describe('what it saves', () => {
  it('saves the POST with its Idempotency-Key until the server answers', async () => {
    // Never answered: the server holds the POST.
    const server = await start(() => {})
    const { mount } = createSession()
    mount({ url: `${server.origin}/s`, method: 'POST', body: 'question' })
    await server.waitForRequests(1)
    const key = server.requests[0]?.headers['idempotency-key']
    expect(key).toBeTruthy()
    expect(saved()).toEqual({
      url: `${server.origin}/s`,
      method: 'POST',
      body: 'question',
      idempotencyKey: key,
      lastEventId: '',
      state: [],
    })
  })

  it('saves the stream URL, the last event folded and the state once answered', async () => {
    const { server, post } = await startStreams()
    const { session, mount } = createSession()
    mount(post)
    await vi.waitFor(() => expect(session.getSnapshot().state).toEqual(['a']))
    hidePage()
    expect(saved()).toEqual({ url: `${server.origin}/s/1`, lastEventId: '1', state: ['a'] })
  })
})

describe('a reload', () => {
  it('re-attaches with a GET from the saved place and state, never sending the POST again', async () => {
    const { server, post } = await startStreams()
    const first = createSession()
    first.mount(post)
    await vi.waitFor(() => expect(first.session.getSnapshot().state).toEqual(['a']))
    hidePage()
    const reloaded = createSession()
    reloaded.mount(post)
    await vi.waitFor(() => expect(reloaded.session.getSnapshot().state).toEqual(['a', 'b']))
    expect(server.requests.map(({ method, lastEventId }) => [method, lastEventId])).toEqual([
      ['POST', undefined],
      ['GET', '1'],
    ])
  })

  it('sends an unanswered POST again with the same body and Idempotency-Key', async () => {
    const server = await start(() => {})
    const first = createSession()
    first.mount({ url: `${server.origin}/s`, method: 'POST', body: 'question' })
    await server.waitForRequests(1)
    const reloaded = createSession()
    reloaded.mount({ url: `${server.origin}/s`, method: 'POST', body: 'question' })
    await server.waitForRequests(2)
    const [sent, again] = server.requests
    expect(again).toMatchObject({ method: 'POST', body: 'question' })
    expect(again?.headers['idempotency-key']).toBe(sent?.headers['idempotency-key'])
  })
})

describe('when it forgets', () => {
  it('forgets a stream that ended with done', async () => {
    const { post } = await startStreams({ finish: true })
    const { session, mount } = createSession()
    mount(post)
    await vi.waitFor(() => expect(session.getSnapshot().closeReason).toBe('done'))
    hidePage()
    expect(sessionStorage.getItem(KEY)).toBeNull()
  })

  it('forgets a stream stopped with stop()', async () => {
    const { server, post } = await startStreams()
    const { session, mount } = createSession()
    mount(post)
    await vi.waitFor(() => expect(saved()).toMatchObject({ url: `${server.origin}/s/1` }))
    await session.stop()
    await vi.waitFor(() => expect(session.getSnapshot().closeReason).toBe('done'))
    hidePage()
    expect(sessionStorage.getItem(KEY)).toBeNull()
  })

  it('forgets the stream on reset()', async () => {
    const { server, post } = await startStreams()
    const { session, mount } = createSession()
    mount(post)
    await vi.waitFor(() => expect(saved()).toMatchObject({ url: `${server.origin}/s/1` }))
    session.reset()
    hidePage()
    expect(sessionStorage.getItem(KEY)).toBeNull()
  })
})

describe('bad saved data', () => {
  it.each([
    ['not JSON', '{"url":'],
    ['JSON null', 'null'],
    ['a number', '5'],
    ['a URL that is not a string', '{"url":5,"lastEventId":"1","state":[]}'],
    ['an id no server sends (a line break)', '{"url":"/s/1","lastEventId":"1\\n","state":[]}'],
    ['an id that is not a string', '{"url":"/s/1","lastEventId":1,"state":[]}'],
    ['no state', '{"url":"/s/1","lastEventId":"1"}'],
    [
      'a key no client sends (a line break)',
      '{"url":"/s","method":"POST","body":"{}","idempotencyKey":"k\\n","lastEventId":"","state":[]}',
    ],
    ['a method that is not a string', '{"url":"/s","method":5,"lastEventId":"","state":[]}'],
    [
      'a body that is not a string',
      '{"url":"/s","method":"POST","body":{},"lastEventId":"","state":[]}',
    ],
  ])('is ignored (%s): the request is sent as new, nothing throws', async (_, value) => {
    const { server, post } = await startStreams()
    sessionStorage.setItem(KEY, value)
    const { session, mount } = createSession()
    expect(() => mount(post)).not.toThrow()
    await vi.waitFor(() => expect(session.getSnapshot().state).toEqual(['a']))
    expect(server.requests.map(({ method }) => method)).toEqual(['POST'])
  })

  it('is not needed to start: a sessionStorage that refuses to be read (privacy mode) is skipped', async () => {
    vi.spyOn(Storage.prototype, 'getItem').mockImplementation(() => {
      throw new DOMException('denied', 'SecurityError')
    })
    const { server, post } = await startStreams()
    const { session, mount } = createSession()
    expect(() => mount(post)).not.toThrow()
    await vi.waitFor(() => expect(session.getSnapshot().state).toEqual(['a']))
    expect(server.requests.map(({ method }) => method)).toEqual(['POST'])
  })

  it('does not stop the stream when sessionStorage refuses to save (quota)', async () => {
    vi.spyOn(Storage.prototype, 'setItem').mockImplementation(() => {
      throw new DOMException('full', 'QuotaExceededError')
    })
    const { post } = await startStreams({ finish: true })
    const { session, mount } = createSession()
    mount(post)
    await vi.waitFor(() => expect(session.getSnapshot().closeReason).toBe('done'))
    // `a`, then the data of `done`, folded like any event.
    expect(session.getSnapshot()).toMatchObject({ state: ['a', '{}'], error: undefined })
  })
})
