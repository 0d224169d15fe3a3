import { defineConfig } from 'vitest/config'

// Tests run on source: the `@unbroken/source` export condition resolves workspace packages to
// `src/` without a build. It must be set for both client and SSR resolution (vitest#6992).
const conditions = ['@unbroken/source']
const root = import.meta.dirname

const project = (name: string, dir: string, environment = 'node') => ({
  extends: true as const,
  test: { name, root: `${root}/${dir}`, environment, include: ['**/*.test.{ts,tsx}'] },
})

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: conditions } },
  test: {
    restoreMocks: true,
    testTimeout: 20_000,
    hookTimeout: 30_000,
    exclude: ['**/node_modules/**', '**/dist/**', '**/*.spec.ts'],
    projects: [
      project('@unbroken/server', 'packages/server'),
      project('@unbroken/client', 'packages/client'),
      project('@unbroken/react', 'packages/react'),
      project('@unbroken/redis', 'packages/redis'),
      project('@unbroken/proxy', 'apps/proxy'),
      project('@unbroken/e2e', 'e2e'),
      project('@unbroken/test-kit', 'packages/test-kit'),
    ],
  },
})
