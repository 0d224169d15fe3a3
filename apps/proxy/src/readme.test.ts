// The README documents every option exactly as the configuration defines it: flag, variable and
// default. (Its TypeScript examples are compiled by the repository's docs checker.)
import { readFileSync } from 'node:fs'
import { expect, it } from 'vitest'
import { OPTIONS, shownDefault } from './config'

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
const rows = [...readme.matchAll(/^\| `--([\w-]+)` \| `(\w+)` \| ([^|]+) \|/gm)].map(
  ([, flag, env, fallback]) => ({ flag, env, fallback: fallback?.trim().replace(/`/g, '') }),
)

it('lists every option once, with its variable and default', () => {
  expect(rows).toEqual(
    Object.entries(OPTIONS).map(([flag, spec]) => ({
      flag,
      env: spec.env,
      fallback: shownDefault(flag as keyof typeof OPTIONS),
    })),
  )
})
