// What the demo's browser tests share: a page that fails its test on any console error or
// warning, the answer the simulated model gives for a request (asked of the proxy directly), and
// readings from the proxy's own metrics.
import { test as base, expect, type Page, type Request } from '@playwright/test'

/** Chromium's own line for a socket cut mid-body: the one console error a page cannot prevent. */
const CUT_SOCKET =
  /Failed to load resource: net::ERR_(INCOMPLETE_CHUNKED_ENCODING|CONNECTION_RESET)/

interface Fixtures {
  /** Allow Chromium's cut-socket line (for tests that cut sockets on purpose). */
  allowCutSockets: () => void
}

export const test = base.extend<Fixtures>({
  allowCutSockets: [
    async ({ page }, use) => {
      let allowCuts = false
      const problems: string[] = []
      page.on('console', (message) => {
        if (message.type() !== 'error' && message.type() !== 'warning') return
        if (allowCuts && CUT_SOCKET.test(message.text())) return
        problems.push(`${message.type()}: ${message.text()}`)
      })
      page.on('pageerror', (error) => problems.push(`page error: ${error.message}`))
      await use(() => {
        allowCuts = true
      })
      expect(problems, 'console errors and warnings').toEqual([])
    },
    { auto: true },
  ],
})

export { expect }

/** Types a question and sends it with Enter; resolves with the POST the hook made for it. */
export async function ask(page: Page, question: string): Promise<Request> {
  const posted = page.waitForRequest(
    (request) => request.method() === 'POST' && new URL(request.url()).pathname === '/v1/streams',
  )
  await page.getByRole('textbox', { name: 'Your question' }).fill(question)
  await page.getByRole('textbox', { name: 'Your question' }).press('Enter')
  return posted
}

/** The text the simulated model streams for this request's body (same messages and seed). */
export async function modelText(baseURL: string, request: Request): Promise<string> {
  const minted = await fetch(`${baseURL}/v1/auth/token`, { method: 'POST' })
  const { token } = (await minted.json()) as { token: string }
  const response = await fetch(`${baseURL}/v1/streams`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: request.postData(),
  })
  let text = ''
  for (const block of (await response.text()).split('\n\n')) {
    const data = /^event: delta\ndata: (.*)$/m.exec(block)?.[1]
    if (data) text += (JSON.parse(data) as { text?: string }).text ?? ''
  }
  return text
}

export const status = (page: Page) => page.getByTestId('status')

/** Waits for the answer to finish and returns its text as the app keeps it (the raw Markdown). */
export async function finishedAnswer(page: Page): Promise<string> {
  await expect(status(page)).toHaveText('Done', { timeout: 45_000 })
  return page.evaluate(() => {
    const saved = JSON.parse(sessionStorage.getItem('demo:conversation') ?? '{}')
    return saved.turns.at(-1).answer as string
  })
}

/**
 * Turns on a network-panel switch that keeps the next answer in flight (Slow network: the page
 * lags the proxy; Stall upstream: the model goes silent mid-answer), so that a test can act
 * mid-answer however loaded the machine: a fast answer may otherwise end before the click lands.
 */
export async function inFlight(page: Page, control: 'Slow network' | 'Stall upstream') {
  await page.getByRole('switch', { name: control }).check()
}

/** Waits until the live answer shows some text. */
export async function midAnswer(page: Page): Promise<void> {
  await expect(page.getByTestId('live-answer')).toHaveAttribute('data-status', 'streaming')
}

/** A counter of the proxy's Prometheus metrics, summed over the series matching `labels`. */
export async function metric(baseURL: string, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`${baseURL}/metrics`)).text()
  return text
    .split('\n')
    .filter((line) => line.startsWith(`unbroken_proxy_${name}`) && line.includes(labels))
    .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0)
}

/** The timeline's connections: how each ended, the id it resumed after, its first and last id. */
export async function timeline(page: Page) {
  return page
    .getByTestId('timeline')
    .locator('li')
    .evaluateAll((rows) =>
      rows.map((row) => ({
        end: row.getAttribute('data-end'),
        after: row.getAttribute('data-after'),
        first: row.getAttribute('data-first'),
        last: row.getAttribute('data-last'),
      })),
    )
}

/**
 * Each resume asked for what followed the last id delivered so far (a connection cut before its
 * first event leaves the position where it was), and got exactly the next id (the memory log
 * numbers events 1, 2, 3…): no gap, no repeat.
 */
export async function expectSeamlessResumes(page: Page, atLeast: number) {
  const [first, ...resumes] = await timeline(page)
  expect(resumes.length, 'resumes').toBeGreaterThanOrEqual(atLeast)
  let position = first?.last
  resumes.forEach((connection, index) => {
    expect(connection.after, `connection ${index + 2} resumes after`).toBe(position)
    if (connection.first !== null) {
      expect(Number(connection.first), `connection ${index + 2} starts at`).toBe(
        Number(position) + 1,
      )
    }
    position = connection.last ?? position
  })
}
