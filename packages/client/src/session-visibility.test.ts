// @vitest-environment jsdom
// The session store in a tab that is hidden, then shown again (issue 12, point 5): a hidden tab runs
// no animation frames and the browser throttles its timers to about 1 s, so the text that arrived
// meanwhile must be published the moment the tab is visible, not on that throttled timer.
import type { ServerResponse } from 'node:http'
import { afterEach, expect, it, vi } from 'vitest'
import { formatEvent, openStream, useServer } from '../test/server'
import { createStreamSession } from './session'

const { start } = useServer()

/** Makes the page report itself hidden or visible, and tells the page as a browser does. */
const setHidden = (hidden: boolean) => {
  Object.defineProperty(document, 'hidden', { configurable: true, get: () => hidden })
  document.dispatchEvent(new Event('visibilitychange', { bubbles: true }))
}

/**
 * Waits for `done()` on the event loop's check phase: `vi.waitFor` would advance the fake timers,
 * and so fire the very timer this test holds back.
 */
const until = async (done: () => boolean) => {
  while (!done()) await new Promise((resolve) => setImmediate(resolve))
}

afterEach(() => {
  vi.useRealTimers()
  setHidden(false)
})

it('publishes what arrived in a hidden tab the moment the tab is visible, before any timer or frame', async () => {
  let res: ServerResponse | undefined
  const server = await start((_, response) => {
    res = response
    openStream(response)
  })
  setHidden(true)
  // Only the scheduler's hidden-tab timer is faked, so that it cannot fire before the tab is shown
  // (the browser throttles it to ~1 s there); the sockets run for real.
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
  let folded = 0
  const session = createStreamSession<string[]>(() => ({
    reducer: (state, event) => {
      folded++
      return [...state, event.data]
    },
    initialState: [],
  }))
  const unmount = session.subscribe(`${server.origin}/s`, () => {})
  await until(() => res !== undefined)
  res?.write(formatEvent({ id: '1', data: 'while hidden' }))
  // The event is folded in; its flush waits on the hidden-tab timer, which has not fired.
  await until(() => folded === 1)
  expect(session.getSnapshot().state).toEqual([])
  setHidden(false)
  expect(session.getSnapshot().state).toEqual(['while hidden'])
  unmount()
})
