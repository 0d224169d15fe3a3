// The demo in Chromium, served by the proxy as `pnpm demo` serves it: an answer streams and is
// exactly the model's text, whatever the network panel does to the connection.
import {
  ask,
  expect,
  expectSeamlessResumes,
  finishedAnswer,
  inFlight,
  metric,
  midAnswer,
  modelText,
  status,
  test,
  timeline,
} from './support'

test.beforeEach(async ({ page }) => {
  await page.goto('/')
  await expect(page.getByRole('button', { name: 'Drop connection now' })).toBeEnabled()
})

test('an answer streams as Markdown and equals the model’s text', async ({ page, baseURL }) => {
  const request = await ask(page, 'Explain resumable streams, with a code example')
  await expect(page.getByTestId('live-answer')).toHaveAttribute('aria-live', 'polite')
  await midAnswer(page)
  const answer = await finishedAnswer(page)
  expect(answer).toBe(await modelText(baseURL as string, request))
  // Rendered, not printed: one <pre> per fenced block, one <table> per table, one <h2> per `## `.
  const count = (pattern: RegExp) => answer.match(pattern)?.length ?? 0
  await expect(page.locator('.answer pre')).toHaveCount(count(/^```\w/gm))
  await expect(page.locator('.answer table')).toHaveCount(count(/^\|[-: |]+\|$/gm))
  await expect(page.locator('.answer h2')).toHaveCount(count(/^## /gm))
  expect(await page.locator('.answer').textContent()).not.toContain('```')
  await expect(page.getByTestId('reconnects')).toHaveText('0')
})

test('Drop connection now: the socket is destroyed and the answer resumes at the next id', async ({
  page,
  baseURL,
  allowCutSockets,
}) => {
  allowCutSockets()
  await inFlight(page)
  const request = await ask(page, 'Tell me about dropped connections')
  await midAnswer(page)
  await page.getByRole('button', { name: 'Drop connection now' }).click()
  await expect(page.getByText('Dropped 1×: the proxy destroyed the socket.')).toBeVisible()
  await expect(page.getByTestId('reconnects')).toHaveText('1')
  await page.getByRole('switch', { name: 'Slow network' }).uncheck()
  const answer = await finishedAnswer(page)
  expect(answer).toBe(await modelText(baseURL as string, request))
  await page.getByRole('button', { name: 'Drop connection now' }).click()
  await expect(page.getByText('No open connection to drop.')).toBeVisible()
  expect((await timeline(page)).map((connection) => connection.end)).toEqual(['dropped', 'done'])
  await expectSeamlessResumes(page, 1)
})

test('Flaky network: drops every few seconds, each resume seamless, the text exact', async ({
  page,
  baseURL,
  allowCutSockets,
}) => {
  allowCutSockets()
  // A long prefill keeps the stream open long enough for the drops, whatever the machine's speed.
  await page.getByRole('switch', { name: 'Long prefill' }).check()
  await page.getByRole('switch', { name: 'Flaky network' }).check()
  const request = await ask(page, 'Write a long answer about flaky networks')
  const answer = await finishedAnswer(page)
  await page.getByRole('switch', { name: 'Flaky network' }).uncheck()
  await page.getByRole('switch', { name: 'Long prefill' }).uncheck()
  expect(answer).toBe(await modelText(baseURL as string, request))
  const ends = (await timeline(page)).map((connection) => connection.end)
  expect(ends.filter((end) => end === 'dropped').length).toBeGreaterThanOrEqual(1)
  await expectSeamlessResumes(page, 1)
})

test('Slow network: the proxy finishes generating while the page still receives, then catches up exactly', async ({
  page,
  baseURL,
}) => {
  const finished = await metric(baseURL as string, 'streams_total', 'end="finished"')
  await page.getByRole('switch', { name: 'Slow network' }).check()
  const request = await ask(page, 'Explain backpressure')
  await expect
    .poll(() => metric(baseURL as string, 'streams_total', 'end="finished"'), { timeout: 30_000 })
    .toBe(finished + 1)
  await expect(status(page)).toHaveText('Streaming')
  await page.getByRole('switch', { name: 'Slow network' }).uncheck()
  expect(await finishedAnswer(page)).toBe(await modelText(baseURL as string, request))
})

test('Token lifetime of 7 s with a long prefill: each expiry is refreshed, before and during the answer, and the text is exact', async ({
  page,
  baseURL,
}) => {
  await page.getByLabel('Token lifetime').selectOption('7')
  // A connection lives 2–3 s (the proxy ends it 5 s before its token expires), so the 6 s prefill
  // sees two expiries with no event in between, and the answer (117 tokens or more, at 40/s) more.
  await page.getByRole('switch', { name: 'Long prefill' }).check()
  const minted: string[] = []
  page.on('request', (request) => {
    if (request.url().endsWith('/v1/auth/token')) minted.push(request.url())
  })
  const request = await ask(page, 'How do tokens expire?')
  const answer = await finishedAnswer(page)
  await page.getByLabel('Token lifetime').selectOption('')
  await page.getByRole('switch', { name: 'Long prefill' }).uncheck()
  expect(answer).toBe(await modelText(baseURL as string, request))
  const [first, ...resumes] = await timeline(page)
  expect(first?.end).toBe('auth-expired')
  // A resume whose token expired in the prefill before any new event: the refresh before it
  // worked all the same, and the next expiry got a refresh of its own.
  const idle = resumes.filter(
    (connection) =>
      connection.end === 'auth-expired' &&
      (connection.last ?? connection.after) === connection.after,
  )
  expect(idle.length, 'expiries with no new event since the refresh').toBeGreaterThanOrEqual(1)
  expect(resumes.map((connection) => connection.end).slice(0, -1)).not.toContain('done')
  expect(resumes.at(-1)?.end).toBe('done')
  expect(minted.length).toBeGreaterThanOrEqual(resumes.length + 1)
})

test('Stall upstream: keepalives hold the connection, then the timeout is shown with what to do', async ({
  page,
}) => {
  await page.getByRole('switch', { name: 'Stall upstream' }).check()
  await ask(page, 'Stall, please')
  const alert = page.getByRole('alert')
  await expect(alert).toContainText('upstream-timeout', { timeout: 40_000 })
  await expect(alert).toContainText('The model went silent. Regenerate to ask again.')
  await page.getByRole('switch', { name: 'Stall upstream' }).uncheck()
  const [connection] = await timeline(page)
  expect(connection?.end).toBe('error')
  await expect(page.getByTestId('timeline')).toContainText('keepalive')
  await alert.getByRole('button', { name: 'Regenerate' }).click()
  await expect(status(page)).toHaveText('Done', { timeout: 30_000 })
})

test('Long prefill: the answer shows Thinking until the first token', async ({ page, baseURL }) => {
  await page.getByRole('switch', { name: 'Long prefill' }).check()
  const request = await ask(page, 'Think hard first')
  await expect(status(page)).toHaveText('Thinking')
  await expect(page.getByTestId('live-answer')).toContainText('Thinking…')
  await page.getByRole('switch', { name: 'Long prefill' }).uncheck()
  expect(await finishedAnswer(page)).toBe(await modelText(baseURL as string, request))
})

test('Stop on a stalled answer ends it as Stopped, and the generation at the proxy', async ({
  page,
  baseURL,
}) => {
  const cancelled = await metric(baseURL as string, 'streams_total', 'end="cancelled"')
  await page.getByRole('switch', { name: 'Stall upstream' }).check()
  await ask(page, 'A stalled answer I will stop')
  await midAnswer(page)
  await page.getByRole('button', { name: 'Stop' }).click()
  await expect(status(page)).toHaveText('Stopped')
  await page.getByRole('switch', { name: 'Stall upstream' }).uncheck()
  await expect
    .poll(() => metric(baseURL as string, 'streams_total', 'end="cancelled"'))
    .toBe(cancelled + 1)
  await expect(page.getByRole('button', { name: 'Send' })).toBeVisible()
  // Stop's DELETE is a request, not a connection of the stream.
  await expect(page.getByTestId('timeline')).not.toContainText('DELETE')
  expect((await timeline(page)).map((connection) => connection.end)).toEqual(['done'])
})

test('a reload mid-answer re-attaches without a second POST and shows every token once', async ({
  page,
  baseURL,
}) => {
  let posts = 0
  page.on('request', (request) => {
    if (request.method() === 'POST' && request.url().endsWith('/v1/streams')) posts += 1
  })
  await inFlight(page)
  const request = await ask(page, 'Reload me halfway')
  await midAnswer(page)
  await page.reload()
  await expect(page.getByTestId('timeline')).toContainText('page reloaded')
  await page.getByRole('switch', { name: 'Slow network' }).uncheck()
  const answer = await finishedAnswer(page)
  expect(answer).toBe(await modelText(baseURL as string, request))
  expect(posts).toBe(1)
  const connections = await timeline(page)
  expect(connections.map((connection) => connection.end)).toEqual(['reloaded', 'done'])
  expect(connections[1]?.after).not.toBeNull()
})

test('a second question carries the conversation; Regenerate asks again with a new seed', async ({
  page,
}) => {
  const first = await ask(page, 'First question')
  const firstAnswer = await finishedAnswer(page)
  const second = await ask(page, 'Second question')
  const body = second.postDataJSON()
  expect(body.messages).toEqual([
    { role: 'user', content: 'First question' },
    { role: 'assistant', content: firstAnswer },
    { role: 'user', content: 'Second question' },
  ])
  await finishedAnswer(page)
  const again = page.waitForRequest(
    (request) => request.method() === 'POST' && request.url().endsWith('/v1/streams'),
  )
  await page.getByRole('button', { name: 'Regenerate' }).click()
  const regenerated = (await again).postDataJSON()
  expect(regenerated.messages).toEqual(body.messages)
  expect(regenerated.seed).not.toBe(body.seed)
  expect(first.postDataJSON().messages).toHaveLength(1)
  await finishedAnswer(page)
  await expect(page.locator('.conversation > ol > li')).toHaveCount(2)
})

test('fits a 360 px screen, with the network panel behind a toggle', async ({ page }) => {
  await page.setViewportSize({ width: 360, height: 740 })
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - innerWidth)
  expect(overflow).toBe(0)
  const toggle = page.getByRole('button', { name: 'Network' })
  await expect(page.getByRole('button', { name: 'Drop connection now' })).toBeHidden()
  await toggle.click()
  await expect(toggle).toHaveAttribute('aria-expanded', 'true')
  await expect(page.getByRole('button', { name: 'Drop connection now' })).toBeVisible()
})
