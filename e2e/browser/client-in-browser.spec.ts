// Our client bundled from source into a page, in Chromium, against our server: point 5 of the e2e
// issue. Each test reads through the fault proxy, which the test drives.
import { expect, type Page } from '@playwright/test'
import { assertSameEvents } from '../support/compare'
import type { PageApi, ReadOptions, ReadResult } from './support/page-entry'
import { openTestPage, test } from './support/test'

declare const unbroken: PageApi

const read = (page: Page, url: string, options: ReadOptions = {}) =>
  page.evaluate(([url, options]) => unbroken.read(url, options), [
    url,
    options,
  ] as const) as Promise<ReadResult>

test('streams a resumable stream started by POST', async ({ page, server }) => {
  server.setStreamPlan({})
  const errors = await openTestPage(page, server)
  const result = await read(page, '/streams?events=500', { method: 'POST' })
  assertSameEvents(
    { scenario: 'browser: stream' },
    await server.reference(result.url),
    result.events,
  )
  expect(result).toMatchObject({ closeReason: 'done', reconnects: 0, error: undefined })
  expect(errors).toEqual([])
})

test('resumes after the test cuts the connection', async ({ page, server }) => {
  server.setStreamPlan({})
  await openTestPage(page, server)
  const reading = read(page, '/streams?events=2000&pauseMs=5', { method: 'POST' })
  await page.waitForFunction(() => unbroken.received.length >= 300)
  server.proxy.cutAll()
  const result = await reading
  assertSameEvents(
    { scenario: 'browser: resume after a cut' },
    await server.reference(result.url),
    result.events,
  )
  expect(result).toMatchObject({ closeReason: 'done', reconnects: 1 })
})

test('resumes a cross-origin stream through its exposed Content-Location', async ({
  page,
  server,
}) => {
  server.setStreamPlan({})
  const errors = await openTestPage(page, server)
  const reading = read(page, `${server.crossOrigin}/streams?events=2000&pauseMs=5`, {
    method: 'POST',
  })
  await page.waitForFunction(() => unbroken.received.length >= 300)
  server.crossOriginProxy.cutAll()
  const result = await reading
  expect(result.url.startsWith(`${server.crossOrigin}/streams/`)).toBe(true)
  assertSameEvents(
    { scenario: 'browser: cross-origin resume' },
    await server.reference(result.url),
    result.events,
  )
  expect(result).toMatchObject({ closeReason: 'done', reconnects: 1 })
  expect(errors).toEqual([])
})

test('refreshes an expired token and resumes', async ({ page, server }) => {
  server.setStreamPlan({})
  await openTestPage(page, server)
  // The server's auth lead is 1 s: a 1.2 s token gets auth-expired 200 ms in, mid-stream.
  const result = await read(page, '/streams?events=1000&pauseMs=5', {
    method: 'POST',
    tokenTtlMs: 1_200,
  })
  assertSameEvents(
    { scenario: 'browser: token refresh' },
    await server.reference(result.url),
    result.events,
  )
  expect(result.refreshes).toEqual(['auth-expired'])
  expect(result).toMatchObject({ closeReason: 'done', reconnects: 1 })
})

test('stops cleanly on abort', async ({ page, server }) => {
  server.setStreamPlan({})
  const errors = await openTestPage(page, server)
  const before = (await server.stats()).hub.disconnects['client-closed'] ?? 0
  const result = await read(page, '/streams?events=2000&pauseMs=5', {
    method: 'POST',
    abortAfter: 100,
  })
  expect(result).toMatchObject({ status: 'closed', closeReason: 'aborted', reconnects: 0 })
  // Nothing more is taken off the network once aborted, and the loop gets nothing after it,
  // not even events already parsed from the same network chunk.
  expect(result.dispatched).toBe(result.dispatchedAtAbort)
  expect(result.events).toHaveLength(100)
  expect(result.error).toBe('aborted')
  await expect
    .poll(async () => (await server.stats()).hub.disconnects['client-closed'])
    .toBe(before + 1)
  expect(errors).toEqual([])
})

test('shows multi-byte text intact under 1-byte segmentation', async ({ page, server }) => {
  server.setStreamPlan({ segmentBytes: 1 })
  await openTestPage(page, server)
  const result = await read(page, '/streams?events=300', { method: 'POST' })
  server.setStreamPlan({})
  assertSameEvents(
    { scenario: 'browser: 1-byte segments' },
    await server.reference(result.url),
    result.events,
  )
  const streamed = server.proxy.connections.filter((c) => c.head?.path.startsWith('/streams'))
  expect(streamed.at(-1)?.writes).toBe(streamed.at(-1)?.delivered)
})
