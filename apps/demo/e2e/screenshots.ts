// `pnpm screenshots`: the pictures the root README shows, taken from the running demo in
// Chromium: an answer mid-stream, the network panel during a resume, and a reload resuming.
import { fileURLToPath } from 'node:url'
import type { Page } from '@playwright/test'
import { ask, expect, midAnswer, test } from './support'

const DIR = fileURLToPath(new URL('../../../docs/screenshots/', import.meta.url))
const shot = (page: Page, name: string) => page.screenshot({ path: `${DIR}${name}.png` })

test.use({ viewport: { width: 1200, height: 760 } })

/** Waits until the live answer shows more than `length` characters. */
const answerLonger = (page: Page, length: number) =>
  page.waitForFunction(
    (min) =>
      (document.querySelector('[data-testid="live-answer"]')?.textContent?.length ?? 0) > min,
    length,
    { polling: 'raf' },
  )

test('chat mid-stream', async ({ page }) => {
  await page.goto('/')
  await ask(page, 'Explain resumable streams, with a code example')
  await midAnswer(page)
  // Far enough into the answer to show some of its Markdown, yet still streaming.
  await answerLonger(page, 300)
  await shot(page, 'chat')
})

test('network panel during a resume', async ({ page, allowCutSockets }) => {
  allowCutSockets()
  await page.emulateMedia({ colorScheme: 'dark' })
  await page.goto('/')
  await ask(page, 'Why do chat answers get cut off?')
  await midAnswer(page)
  await answerLonger(page, 250)
  // A slow network keeps the answer running while the connection is dropped twice.
  await page.getByRole('switch', { name: 'Slow network' }).check()
  const rows = page.getByTestId('timeline').locator('li')
  for (const count of [2, 3]) {
    await page.getByRole('button', { name: 'Drop connection now' }).click()
    await expect(rows).toHaveCount(count)
    await expect(rows.last()).toHaveAttribute('data-first', /\d/)
  }
  await shot(page, 'network')
  await page.getByRole('switch', { name: 'Slow network' }).uncheck()
})

test('reload resume', async ({ page }) => {
  await page.goto('/')
  await ask(page, 'Show me a table of retry strategies')
  await midAnswer(page)
  await answerLonger(page, 250)
  await page.reload()
  // The connection the reload ended, and the one that resumed after it, carrying the next ids.
  const rows = page.getByTestId('timeline').locator('li')
  await expect(rows.first()).toHaveAttribute('data-end', 'reloaded')
  await expect(rows.nth(1)).toHaveAttribute('data-first', /\d/)
  await shot(page, 'reload')
})
