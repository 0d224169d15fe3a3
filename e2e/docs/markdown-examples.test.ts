// Every TypeScript example in the READMEs and docs/ compiles under strict against the real packages,
// and every `ts run` example runs as written. How to annotate an example: markdown-examples.ts.
import { execFile } from 'node:child_process'
import { rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  collectExamples,
  extractExamples,
  filesToCheck,
  type PlacedFile,
  REPO_ROOT,
  typeErrors,
} from './markdown-examples'

const placed = collectExamples()
// tsx's own CLI, resolved from the repository root, which depends on it.
const tsx = createRequire(join(REPO_ROOT, 'package.json')).resolve('tsx/cli')

// Pages that must fail the check in known ways, compiled in the same program as the real pages (one
// program checks the standard library and the packages' types once).
const e2e = join(REPO_ROOT, 'e2e')
const selfTest = (page: string, markdown: string): PlacedFile[] =>
  filesToCheck(extractExamples(markdown, page)).map((file) => ({ dir: e2e, file }))
const misuse = selfTest(
  'self-test/misuse.md',
  "# p\n\n```ts\nimport { createEventStream } from '@unbroken/client'\ncreateEventStream(1)\n```\n",
)
const continued = selfTest(
  'self-test/continued.md',
  [
    '```ts',
    'const answer: number = 42',
    '```',
    '```ts fragment',
    'this is not TypeScript',
    '```',
    '```ts continued',
    'const text: string = answer',
    '```',
    '',
  ].join('\n'),
)

let errors: string[] = []
beforeAll(() => {
  errors = typeErrors([...placed, ...misuse, ...continued])
}, 120_000)
const errorsOf = (prefix: string) => errors.filter((error) => error.startsWith(prefix))

it('type-checks every example of the READMEs and docs/ under strict', () => {
  expect(errors.filter((error) => !error.startsWith('self-test/'))).toEqual([])
})

const runs = placed.filter(({ file }) => file.example.run)
describe.each(
  runs.map((run) => [`${run.file.example.page}:${run.file.example.line}`, run] as const),
)('the example at %s', (_where, { dir, file }) => {
  it('runs as written', { timeout: 60_000 }, async () => {
    // Written beside the page's package, so that its imports resolve as in the type check.
    const path = join(dir, `.example-run-${file.example.line}.ts`)
    writeFileSync(path, file.text)
    try {
      const { stdout } = await promisify(execFile)(
        process.execPath,
        [tsx, '--conditions=@unbroken/source', path],
        { cwd: dir, timeout: 50_000 },
      )
      if (file.example.output !== undefined) expect(stdout).toBe(file.example.output)
    } finally {
      rmSync(path, { force: true })
    }
  })
})

describe('the checker', () => {
  it('finds examples in the package READMEs, the root README and docs/', () => {
    const pages = new Set(placed.map(({ file }) => file.example.page))
    expect(pages).toContain('README.md')
    expect(pages).toContain('packages/server/README.md')
    expect(pages).toContain('packages/client/README.md')
    expect([...pages].some((page) => page.startsWith('docs/'))).toBe(true)
  })

  it('reports a misuse of the API with the page and line', () => {
    expect(errorsOf('self-test/misuse.md')).toEqual([
      expect.stringMatching(/^self-test\/misuse\.md:5: Argument of type 'number'/),
    ])
  })

  it('checks a continued example together with the one before it, and skips fragments', () => {
    expect(errorsOf('self-test/continued.md')).toEqual([
      expect.stringMatching(/^self-test\/continued\.md:8: Type 'number' is not assignable/),
    ])
  })

  it('refuses an unknown annotation rather than skipping the example', () => {
    expect(() => extractExamples('```ts skip\nx\n```\n', 'p.md')).toThrow(/unknown example flag/)
  })

  it('pairs a run example with the text output block after it', () => {
    const [example] = extractExamples(
      '```ts run\nconsole.log(1)\n```\n```text output\n1\n```\n',
      'p.md',
    )
    expect(example).toMatchObject({ run: true, continued: false, output: '1\n' })
  })
})
