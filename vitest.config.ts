import { defineConfig } from 'vitest/config'

// Tests run on source: the `@unbroken/source` export condition resolves workspace packages to
// `src/` without a build. It must be set for both client and SSR resolution (vitest#6992).
const conditions = ['@unbroken/source']
const root = import.meta.dirname

const project = (name: string, dir: string, environment = 'node') => ({
  extends: true as const,
  test: { name, root: `${root}/${dir}`, environment, include: ['**/*.test.{ts,tsx}'] },
})

// The react package's tests run on React 19, and its React-rendering tests (`*.test.tsx`) again on
// React 18, from a workspace folder whose own node_modules hold react 18, react-dom 18 and a
// testing library linked to them (an alias of the same names in one folder would leave react-dom 18
// requiring react 19).
const react18 = `${root}/packages/react/test-react-18/node_modules`
const reactTests = (
  name: string,
  include: string,
  alias: { find: RegExp; replacement: string }[],
) => {
  const base = project(name, 'packages/react', 'jsdom')
  return {
    ...base,
    test: { ...base.test, include: [include], setupFiles: ['./test/setup.ts'] },
    resolve: { alias },
  }
}

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
      reactTests('@unbroken/react', '**/*.test.{ts,tsx}', []),
      reactTests('@unbroken/react (React 18)', '**/*.test.tsx', [
        {
          find: /^(react|react-dom|@testing-library\/react)(\/.*)?$/,
          replacement: `${react18}/$1$2`,
        },
      ]),
      project('@unbroken/redis', 'packages/redis'),
      project('@unbroken/proxy', 'apps/proxy'),
      project('@unbroken/e2e', 'e2e'),
      project('@unbroken/test-kit', 'packages/test-kit'),
    ],
  },
})
