import { defineConfig } from '@playwright/test'
import { chromiumLaunchOptions, freePort } from '@unbroken/test-kit'

// A free port, so that runs on one machine (engineers, CI) never meet on a fixed one. Picked once
// by the runner: its workers load this file again and inherit the choice through the environment.
process.env.DEMO_TEST_PORT ||= String(await freePort())
const port = Number(process.env.DEMO_TEST_PORT)

export default defineConfig({
  testDir: './e2e',
  timeout: 60_000,
  expect: { timeout: 20_000 },
  workers: 1,
  reporter: process.env.CI ? 'list' : 'line',
  projects: [
    { name: 'demo', testMatch: '*.spec.ts' },
    { name: 'screenshots', testMatch: 'screenshots.ts' },
  ],
  // The built app served by the proxy, as `pnpm demo` runs it, at the model's usual 40 tokens/s (an
  // answer outlives a 7 s token's 2 s connection). "Stall upstream" ends after 15 s instead of 20:
  // short enough for a test, long enough that Stop lands on a stalled generation on a loaded box.
  webServer: {
    command: `tsx --conditions=@unbroken/source scripts/serve.ts --port ${port} --upstream-idle-timeout 15s --keepalive 2s`,
    url: `http://127.0.0.1:${port}/readyz`,
    reuseExistingServer: false,
    timeout: 60_000,
  },
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    launchOptions: chromiumLaunchOptions(),
  },
})
