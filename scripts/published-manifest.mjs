// `prepack`/`postpack` of every published package: the tarball's package.json keeps what a user's
// install needs and nothing of the workspace (its scripts, devDependencies and the internal
// `@unbroken/source` export condition that points at `src/`, which is not shipped). pnpm and npm
// both read package.json after `prepack`, so `pnpm publish`, `changeset publish`, `npm pack` and
// attw's `--pack` all see the clean manifest; `postpack` puts the original back byte for byte.
import { copyFileSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs'

const MANIFEST = 'package.json'
const BACKUP = 'package.json.workspace'
const TEMPORARY = 'package.json.published'
const SOURCE_CONDITION = '@unbroken/source'

function withoutSourceCondition(exports) {
  if (typeof exports !== 'object' || exports === null) return exports
  return Object.fromEntries(
    Object.entries(exports)
      .filter(([key]) => key !== SOURCE_CONDITION)
      .map(([key, value]) => [key, withoutSourceCondition(value)]),
  )
}

const [command] = process.argv.slice(2)
if (command === 'clean') {
  // A backup left by a pack that failed before `postpack` is the real manifest: never overwrite it.
  if (!existsSync(BACKUP)) copyFileSync(MANIFEST, BACKUP)
  const { scripts, devDependencies, exports, ...kept } = JSON.parse(readFileSync(BACKUP, 'utf8'))
  // Written aside and renamed over, so that package.json never goes missing for a process that
  // resolves the package meanwhile (tests running beside the pack test).
  writeFileSync(
    TEMPORARY,
    `${JSON.stringify({ ...kept, exports: withoutSourceCondition(exports) }, null, 2)}\n`,
  )
  renameSync(TEMPORARY, MANIFEST)
} else if (command === 'restore') {
  if (existsSync(BACKUP)) renameSync(BACKUP, MANIFEST)
} else {
  console.error('usage: published-manifest.mjs clean|restore')
  process.exit(1)
}
