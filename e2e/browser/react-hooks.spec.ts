// useLLMStream in Chromium against our server (issue 12, point 7): the page counts React commits
// with <Profiler> and animation frames; the server counts POSTs, connections and cancellations.
import { expect, type Page } from '@playwright/test'
import { llmText } from './support/llm'
import type { MountOptions, ReactPageApi, Rendered } from './support/react-page'
import { test } from './support/test'

declare const reactPage: ReactPageApi

async function openReactPage(page: Page, origin: string, options: MountOptions = {}) {
  const errors: string[] = []
  page.on('pageerror', (error) => errors.push(String(error)))
  await page.goto(`${origin}/react`)
  await page.waitForFunction(() => 'reactPage' in globalThis)
  await page.evaluate((options) => reactPage.mount(options), options)
  return errors
}

const rendered = (page: Page) => page.evaluate(() => reactPage.rendered()) as Promise<Rendered>
const send = (page: Page, body: { tokens: number; rate: number; prefillMs?: number }) =>
  page.evaluate((body) => reactPage.send(body), body)
// Polled on an interval, not on animation frames: a hidden tab runs none.
const waiting = { polling: 20, timeout: 30_000 }
const waitForStatus = (page: Page, status: string) =>
  page.waitForFunction((status) => reactPage.rendered().status === status, status, waiting)
const waitForTokens = (page: Page, tokens: number) =>
  page.waitForFunction((tokens) => reactPage.rendered().tokens >= tokens, tokens, waiting)

test('sends exactly one POST under StrictMode, from a mount effect it runs twice, counted at the server', async ({
  page,
  server,
}) => {
  server.setStreamPlan({})
  const before = (await server.stats()).llm
  const errors = await openReactPage(page, server.origin, {
    strict: true,
    sendOnMount: { tokens: 50, rate: 500 },
  })
  await waitForStatus(page, 'done')
  const after = (await server.stats()).llm
  expect(after.POST - before.POST).toBe(1)
  expect(after.GET - before.GET).toBe(0)
  expect((await rendered(page)).text).toBe(llmText(50))
  expect(errors).toEqual([])
})

test('shows the exact text after a reload mid-stream, re-attached by GET', async ({
  page,
  server,
}) => {
  server.setStreamPlan({})
  await openReactPage(page, server.origin, { id: 'e2e-reload' })
  const before = (await server.stats()).llm
  await send(page, { tokens: 600, rate: 300 })
  await waitForTokens(page, 100)
  await page.reload()
  await page.waitForFunction(() => 'reactPage' in globalThis)
  await page.evaluate(() => reactPage.mount({ id: 'e2e-reload' }))
  await waitForStatus(page, 'done')
  expect((await rendered(page)).text).toBe(llmText(600))
  const after = (await server.stats()).llm
  expect(after.POST - before.POST).toBe(1)
  expect(after.GET - before.GET).toBe(1)
})

test('shows the exact text after the connection is cut', async ({ page, server }) => {
  server.setStreamPlan({})
  await openReactPage(page, server.origin)
  await send(page, { tokens: 600, rate: 300 })
  await waitForTokens(page, 100)
  server.proxy.cutAll()
  await waitForStatus(page, 'done')
  const { text, reconnects } = await rendered(page)
  expect(text).toBe(llmText(600))
  expect(reconnects).toBe(1)
})

test('keeps a hidden tab current without animation frames, and shows it the moment it is visible', async ({
  tabs,
  server,
}) => {
  const { page } = tabs
  server.setStreamPlan({})
  await openReactPage(page, server.origin)
  await send(page, { tokens: 600, rate: 200 })
  await waitForTokens(page, 50)
  await tabs.hide()
  const hidden = await rendered(page)
  await waitForStatus(page, 'done')
  const done = await rendered(page)
  // Hidden mid-stream; no frame ran while hidden, yet the page rendered the whole answer (on its
  // timer, which Chromium throttles in a background tab).
  expect(hidden.status).toBe('streaming')
  expect([hidden.visibility, done.visibility]).toEqual(['hidden', 'hidden'])
  expect(done.frames).toBe(hidden.frames)
  expect(done.text).toBe(llmText(600))
  expect(done.commits).toBeGreaterThan(hidden.commits)
  const firstFrame = page.evaluate(() => reactPage.nextFrame())
  await tabs.show()
  const shown = await firstFrame
  expect(shown.visibility).toBe('visible')
  expect(shown.text).toBe(llmText(600))
})

test('unmounting closes the connection at the server and leaves the generation running', async ({
  page,
  server,
}) => {
  server.setStreamPlan({})
  await openReactPage(page, server.origin, { id: 'e2e-unmount' })
  const before = (await server.stats()).llm
  await send(page, { tokens: 600, rate: 60 })
  await waitForTokens(page, 20)
  expect((await server.stats()).llm.open - before.open).toBe(1)
  await page.evaluate(() => reactPage.unmount())
  await expect.poll(async () => (await server.stats()).llm.open - before.open).toBe(0)
  // The producer ran on: a remount re-attaches and gets the whole answer.
  await page.evaluate(() => reactPage.mount({ id: 'e2e-unmount' }))
  await waitForStatus(page, 'done')
  expect((await rendered(page)).text).toBe(llmText(600))
  const after = (await server.stats()).llm
  expect(after.cancelled - before.cancelled).toBe(0)
  expect(after.POST - before.POST).toBe(1)
})

test('stop() reaches the producer and the page shows stopped', async ({ page, server }) => {
  server.setStreamPlan({})
  await openReactPage(page, server.origin)
  const before = (await server.stats()).llm
  await send(page, { tokens: 1_000, rate: 200 })
  await waitForTokens(page, 20)
  await page.evaluate(() => reactPage.stop())
  await waitForStatus(page, 'stopped')
  const after = (await server.stats()).llm
  expect(after.DELETE - before.DELETE).toBe(1)
  expect(after.cancelled - before.cancelled).toBe(1)
  expect((await rendered(page)).tokens).toBeLessThan(1_000)
})

test('commits at most once per animation frame at 1,000 events/s', async ({ page, server }) => {
  server.setStreamPlan({})
  await openReactPage(page, server.origin)
  await send(page, { tokens: 3_000, rate: 1_000 })
  await waitForTokens(page, 1)
  const start = await rendered(page)
  await waitForStatus(page, 'done')
  const end = await rendered(page)
  const commits = end.commits - start.commits
  const frames = end.frames - start.frames
  test.info().annotations.push({
    type: 'commits per frame',
    description: `${commits} commits in ${frames} frames for ${end.tokens - start.tokens} tokens`,
  })
  expect(end.text).toBe(llmText(3_000))
  // The final status change may commit in the frame after the last token.
  expect(commits).toBeLessThanOrEqual(frames + 1)
})
