// Our server's streams read by Chromium's native EventSource and by @microsoft/fetch-event-source
// in a page: point 1 of the e2e issue (the Node peers are in interop/server-read-by-peers.test.ts).
import { expect, type Page } from '@playwright/test'
import { assertSameEvents } from '../support/compare'
import { CANONICAL_EVENTS } from '../support/events'
import type { PageApi } from './support/page-entry'
import { openTestPage, test } from './support/test'

declare const unbroken: PageApi

const TYPES = [...new Set(CANONICAL_EVENTS.map((e) => e.type))]
const readNative = (page: Page, url: string) =>
  page.evaluate(([url, types]) => unbroken.readNative(url, types), [url, TYPES] as const)

test('is read identically by the native EventSource', async ({ page, server }) => {
  await openTestPage(page, server)
  const events = await readNative(page, '/canonical?key=native')
  assertSameEvents({ scenario: 'native EventSource reading our server' }, CANONICAL_EVENTS, events)
})

test('is read identically by @microsoft/fetch-event-source', async ({ page, server }) => {
  await openTestPage(page, server)
  const events = await page.evaluate(() => unbroken.readFetchEventSource('/canonical?key=fes'))
  assertSameEvents({ scenario: 'fetch-event-source reading our server' }, CANONICAL_EVENTS, events)
})

test('has its retry: hint honoured by the native EventSource', async ({ page, server }) => {
  await openTestPage(page, server)
  // Both streams drop after every event. One asks for a 1 ms retry and must reconnect eight times
  // to finish; the other asks for ten minutes and must not have reconnected once by then, which
  // Chromium's own default delay (seconds) would break either way.
  await page.evaluate(
    ([types]) => {
      void unbroken.readNative('/canonical?key=slow&every=1&retry=600000', types)
    },
    [TYPES] as const,
  )
  const events = await page.evaluate(
    ([types]) => unbroken.readNative('/canonical?key=fast&every=1&retry=1', types),
    [TYPES] as const,
  )
  assertSameEvents({ scenario: 'native EventSource with retry: 1' }, CANONICAL_EVENTS, events)
  const { requests } = await server.stats()
  expect(requests).toMatchObject({ fast: CANONICAL_EVENTS.length, slow: 1 })
})

test('is resumed by the native EventSource through its own Last-Event-ID', async ({
  page,
  server,
}) => {
  await openTestPage(page, server)
  const { url } = await page.evaluate(async () =>
    (await fetch('/start?events=2000&pauseMs=5', { method: 'POST' })).json(),
  )
  const reading = page.evaluate(([url]) => unbroken.readNative(url, ['delta', 'done']), [
    url,
  ] as const)
  await page.waitForFunction(() => unbroken.received.length >= 300)
  server.proxy.cutAll()
  const events = await reading
  assertSameEvents(
    { scenario: 'native EventSource resuming a resumable stream' },
    await server.reference(url),
    events,
  )
  const resumes = server.proxy.connections.filter((c) => c.head?.path === url)
  expect(resumes.map((c) => c.head?.headers['last-event-id'] !== undefined)).toEqual([false, true])
})
