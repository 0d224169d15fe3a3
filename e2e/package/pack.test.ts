// The published packages as a user gets them: each is packed with pnpm (as `pnpm publish` packs),
// the tarballs are installed together with npm into a scratch app, and the app imports every entry
// (ESM and require), type-checks against them under node16 and bundler resolution, and `npm ls`
// stays quiet.
import { execFile } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import semver from 'semver'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const run = promisify(execFile)
const ROOT = join(import.meta.dirname, '../..')
const PACKAGES = ['server', 'client', 'react', 'redis'] as const
// Entries that need a peer the scratch app does not install: resolved, not imported.
const RESOLVE_ONLY = new Set(['@unbroken/server/testing']) // imports vitest
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc')

interface Manifest {
  name: string
  version: string
  exports: Record<string, unknown>
  scripts?: unknown
  devDependencies?: unknown
  dependencies?: Record<string, string>
  peerDependencies?: Record<string, string>
}

interface Packed {
  readonly dir: string
  readonly tarball: string
  readonly files: string[]
  readonly manifest: Manifest
}

let scratch = ''
const packed = new Map<string, Packed>()

/** Every entry a package exports, as import specifiers (`./package.json` aside). */
const entriesOf = ({ manifest }: Packed) =>
  Object.keys(manifest.exports)
    .filter((key) => key !== './package.json')
    .map((key) => (key === '.' ? manifest.name : `${manifest.name}/${key.slice(2)}`))

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'unbroken-pack-'))
  await run('pnpm', ['exec', 'turbo', 'run', 'build', '--filter=./packages/*'], { cwd: ROOT })
  for (const name of PACKAGES) {
    const dir = join(ROOT, 'packages', name)
    const { stdout } = await run('pnpm', ['pack', '--json', '--pack-destination', scratch], {
      cwd: dir,
    })
    // Lifecycle scripts (prepack, postpack) print before the JSON.
    const { filename, files } = JSON.parse(stdout.slice(stdout.indexOf('\n{') + 1)) as {
      filename: string
      files: { path: string }[]
    }
    const { stdout: manifestText } = await run('tar', ['-xOzf', filename, 'package/package.json'])
    packed.set(name, {
      dir,
      tarball: filename,
      files: files.map((file) => file.path).sort(),
      manifest: JSON.parse(manifestText) as Manifest,
    })
  }
  const app = join(scratch, 'app')
  mkdirSync(app)
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({ name: 'scratch-app', private: true, type: 'module' }),
  )
  // Peers a user of every package has: React for @unbroken/react, and the types a TypeScript user
  // installs. npm resolves the rest (redis) from the tarballs' own dependencies.
  await run(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      ...[...packed.values()].map((p) => p.tarball),
      'react@19',
      '@types/react@19',
      '@types/node@20',
    ],
    { cwd: app, timeout: 240_000 },
  )
}, 300_000)

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true })
})

describe.each(PACKAGES)('@unbroken/%s, packed', (name) => {
  const pack = () => packed.get(name) as Packed

  it('holds dist, the README, the LICENSE and package.json, and nothing else', () => {
    const outside = pack().files.filter(
      (path) =>
        !['package.json', 'README.md', 'LICENSE'].includes(path) && !path.startsWith('dist/'),
    )
    expect(outside).toEqual([])
    expect(pack().files).toEqual(expect.arrayContaining(['LICENSE', 'README.md', 'package.json']))
    expect(pack().files.filter((path) => /\.test\.|test-/.test(path))).toEqual([])
    expect(readFileSync(join(pack().dir, 'LICENSE'), 'utf8')).toBe(
      readFileSync(join(ROOT, 'LICENSE'), 'utf8'),
    )
  })

  it('publishes a package.json without scripts, devDependencies or the source condition', () => {
    const { manifest } = pack()
    expect(manifest.scripts).toBeUndefined()
    expect(manifest.devDependencies).toBeUndefined()
    expect(JSON.stringify(manifest)).not.toContain('@unbroken/source')
    expect(JSON.stringify(manifest)).not.toContain('workspace:')
  })

  it('asks for sibling packages with a range their next patch release still meets', () => {
    const { manifest } = pack()
    const ranges = { ...manifest.dependencies, ...manifest.peerDependencies }
    for (const [dependency, range] of Object.entries(ranges)) {
      const sibling = dependency.startsWith('@unbroken/') ? dependency.slice(10) : undefined
      if (sibling === undefined) continue
      const { version } = (packed.get(sibling) as Packed).manifest
      expect(semver.satisfies(version, range), `${dependency}@${version} in ${range}`).toBe(true)
      const nextPatch = semver.inc(version, 'patch') as string
      expect(semver.satisfies(nextPatch, range), `${dependency}@${nextPatch} in ${range}`).toBe(
        true,
      )
    }
  })

  it('imports every entry in Node, as ESM and with require()', async () => {
    const app = join(scratch, 'app')
    for (const entry of entriesOf(pack())) {
      const action = RESOLVE_ONLY.has(entry) ? 'import.meta.resolve' : 'await import'
      const esm = `const m = ${action}(${JSON.stringify(entry)}); console.log(typeof m)`
      const { stdout } = await run(process.execPath, ['--input-type=module', '-e', esm], {
        cwd: app,
      })
      expect(stdout.trim(), entry).toBe(RESOLVE_ONLY.has(entry) ? 'string' : 'object')
      if (RESOLVE_ONLY.has(entry)) continue
      // require() of an ES module works from Node 20.19 (this repository's engines floor).
      const cjs = `console.log(Object.keys(require(${JSON.stringify(entry)})).length > 0)`
      const required = await run(process.execPath, ['-e', cjs], { cwd: app })
      expect(required.stdout.trim(), entry).toBe('true')
    }
  })
})

describe('the scratch app', () => {
  it.each(['node16', 'bundler'] as const)(
    'type-checks against every entry under moduleResolution %s',
    async (resolution) => {
      const app = join(scratch, 'app')
      const entries = [...packed.values()].flatMap(entriesOf)
      const source = entries.map((entry, i) => `import * as entry${i} from '${entry}'`).join('\n')
      // `void` uses each namespace, so an entry whose types fail to load is an error, not unused.
      writeFileSync(
        join(app, 'check.ts'),
        `${source}\n${entries.map((_, i) => `void entry${i}`).join('\n')}\n`,
      )
      const module = resolution === 'node16' ? 'node16' : 'esnext'
      const { stdout } = await run(
        process.execPath,
        [
          TSC,
          '--noEmit',
          '--strict',
          '--skipLibCheck',
          'false',
          '--types',
          'node',
          '--module',
          module,
          '--moduleResolution',
          resolution,
          '--target',
          'es2022',
          '--lib',
          'es2023,dom',
          'check.ts',
        ],
        { cwd: app },
      ).catch((error: { stdout: string }) => ({ stdout: error.stdout }))
      expect(stdout).toBe('')
    },
    60_000,
  )

  it('installs without npm ls complaints about our packages', async () => {
    const app = join(scratch, 'app')
    const plain = await run('npm', ['ls'], { cwd: app })
    const complaints = `${plain.stdout}\n${plain.stderr}`
      .split('\n')
      .filter((line) => /UNMET|invalid|extraneous|missing/i.test(line))
    expect(complaints).toEqual([])
    // Deeper down, node-redis's own optional peers (@node-rs/xxhash, @opentelemetry/api) are
    // unmet for every node-redis user; what must hold is that nothing our packages ask for is.
    const { stdout } = await run('npm', ['ls', '--all'], { cwd: app })
    // Each tree line's parent is the nearest line above it that is indented less.
    const parents: string[] = []
    const unmet: string[] = []
    for (const line of stdout.split('\n')) {
      const depth = line.search(/[\w@]/)
      if (depth < 0) continue
      const text = line.slice(depth)
      const parent = parents.filter((_, i) => i < depth).findLast(Boolean) ?? ''
      if (/UNMET|invalid|extraneous|missing/i.test(text) && parent.startsWith('@unbroken/')) {
        unmet.push(`${parent} → ${text}`)
      }
      parents.length = depth
      parents[depth] = text
    }
    expect(unmet).toEqual([])
  })
})
