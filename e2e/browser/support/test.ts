import { test as base, type Page } from '@playwright/test'
import { openTabs, type Tabs } from './background-tab'
import { type PageFixture, startPageFixture } from './fixture'

/**
 * Playwright's `test` with `server`: the page server behind its fault proxies, started once per
 * worker and shared by the spec files, since starting it bundles the client (seconds); and `tabs`:
 * a browser window of its own whose page can really go to the background.
 */
export const test = base.extend<{ tabs: Tabs }, { server: PageFixture }>({
  // biome-ignore lint/correctness/noEmptyPattern: Playwright requires a destructured first argument.
  tabs: async ({}, use) => {
    const tabs = await openTabs()
    await use(tabs)
    await tabs.close()
  },
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
