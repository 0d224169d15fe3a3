// `pnpm screenshots`: the pictures the root README shows, taken from the running demo in
// Chromium: an answer mid-stream, the network panel during a resume, and a reload resuming.
import { fileURLToPath } from 'node:url'
import type { Page } from '@playwright/test'
import { ask, expect, midAnswer, test } from './support'

const DIR = fileURLToPath(new URL('../../../docs/screenshots/', import.meta.url))
const shot = (page: Page, name: string) => page.screenshot({ path: `${DIR}${name}.png` })

test.use({ viewport: { width: 1200, height: 760 } })

test('chat mid-stream', async ({ page }) => {
  await page.goto('/')
  await ask(page, 'Explain resumable streams, with a code example')
  await midAnswer(page)
  // Far enough into the answer to show some of its Markdown, yet still streaming.
  await page.waitForFunction(
    () => (document.querySelector('[data-testid="live-answer"]')?.textContent?.length ?? 0) > 300,
    undefined,
    { polling: 'raf' },
  )
  await shot(page, 'chat')
})

test('network panel during a resume', async ({ page, allowCutSockets }) => {
  allowCutSockets()
  await page.emulateMedia({ colorScheme: 'dark' })
  await page.goto('/')
  // A slow network keeps the answer running while the connection is dropped twice.
  await page.getByRole('switch', { name: 'Slow network' }).check()
  await ask(page, 'Why do chat answers get cut off?')
  await midAnswer(page)
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
  await page.reload()
  await expect(page.getByTestId('live-answer')).toHaveAttribute('data-status', 'streaming')
  await expect(page.getByTestId('timeline')).toContainText('page reloaded')
  await shot(page, 'reload')
})
