import { test as base, type Page } from '@playwright/test'
import { type PageFixture, startPageFixture } from './fixture'

/**
 * Playwright's `test` with `server`: the page server behind its fault proxies, started once per
 * worker and shared by the spec files, since starting it bundles the client (seconds).
 */
export const test = base.extend<object, { server: PageFixture }>({
  server: [
    // biome-ignore lint/correctness/noEmptyPattern: Playwright requires a destructured first argument.
    async ({}, use) => {
      const server = await startPageFixture()
      await use(server)
      await server.close()
    },
    { scope: 'worker' },
  ],
})

/** Opens the test page once its script is ready; the returned list collects the page's uncaught errors. */
export async function openTestPage(page: Page, server: PageFixture): Promise<string[]> {
  const errors: string[] = []
  page.on('pageerror', (error) => errors.push(String(error)))
  await page.goto(server.origin)
  await page.waitForFunction(() => 'unbroken' in globalThis)
  return errors
}
