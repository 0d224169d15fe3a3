import { defineConfig } from '@playwright/test'
import { chromiumLaunchOptions } from '@unbroken/test-kit'

export default defineConfig({
  testMatch: '**/*.spec.ts',
  timeout: 60_000,
  projects: [
    { name: 'browser', testDir: './browser' },
    // The deployment (issue 16): nginx, two proxy instances and Redis, started once per worker;
    // each scenario breaks something in the middle of an answer paced to last several seconds.
    {
      name: 'deploy',
      testDir: './deploy',
      timeout: 180_000,
      expect: { timeout: 30_000 },
    },
  ],
  workers: 1,
  reporter: process.env.CI ? 'list' : 'line',
  use: {
    launchOptions: chromiumLaunchOptions(),
  },
})
