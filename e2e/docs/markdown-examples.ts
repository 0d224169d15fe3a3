/**
 * Finds the TypeScript examples in the repository's Markdown and type-checks them against the real
 * packages. How to write an example that passes:
 *
 * - ```ts (or tsx): a complete file. It is type-checked under `strict`, alone, as a module.
 * - ```ts continued: checked after the last complete example above it on the same page, sharing its
 *   declarations (a setup block, then one block per framework, each continuing the setup).
 * - ```ts run: also run with tsx; it must exit 0. A ```text output block right after it holds what
 *   it must print, exactly. `ts continued run` runs the example with the one it continues.
 * - ```ts fragment: a piece shown for its shape (one option, one line of a larger file); not checked.
 * - `in=<dir>` among the flags (or alone): the example is a file of that directory, relative to the
 *   page (a bench suite in `suites/` imports `../harness`).
 *
 * Imports resolve as in the nearest workspace package above the page (its dependencies, and the
 * `@unbroken/*` sources through the `@unbroken/source` condition). Pages outside every package (the
 * root README, `docs/`) resolve from `e2e`, which depends on every package and framework. Unused
 * names are allowed: an example may declare something only to show it.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import ts from 'typescript'

export const REPO_ROOT = join(import.meta.dirname, '../..')
const PAGES_OUTSIDE_PACKAGES_RESOLVE_FROM = join(REPO_ROOT, 'e2e')

export interface Example {
  /** The page, relative to the repository root. */
  readonly page: string
  /** 1-based line of the example's first code line in the page. */
  readonly line: number
  /** Checked after the last complete example above it. */
  readonly continued: boolean
  /** Also run. */
  readonly run: boolean
  /** Shown only. */
  readonly fragment: boolean
  readonly jsx: boolean
  readonly code: string
  /** The directory, relative to the page, that the example is a file of (`in=<dir>`). */
  readonly within?: string | undefined
  /** For `run`: the `text output` block that follows, if any. */
  readonly output?: string | undefined
}

const FENCE = /^```(\w*)(?:[ \t]+([^\n]*))?\n([\s\S]*?)^```[ \t]*$/gm
const TS_LANGUAGES: Readonly<Record<string, boolean>> = { ts: false, typescript: false, tsx: true }
const FLAGS = new Set<string>(['continued', 'run', 'fragment'])

/** Every Markdown page that documents the project: READMEs of the root and workspaces, and `docs/`. */
export function findPages(root = REPO_ROOT): string[] {
  const pages = [join(root, 'README.md')]
  for (const name of readdirSync(join(root, 'docs'))) {
    if (name.endsWith('.md')) pages.push(join(root, 'docs', name))
  }
  for (const group of ['packages', 'apps']) {
    for (const name of readdirSync(join(root, group)))
      pages.push(join(root, group, name, 'README.md'))
  }
  pages.push(join(root, 'e2e/README.md'), join(root, 'bench/README.md'))
  return pages.filter((page) => existsSync(page))
}

/** The TypeScript examples of one page, in order, with their flags. */
export function extractExamples(markdown: string, page: string): Example[] {
  const blocks = [...markdown.matchAll(FENCE)].map((match) => ({
    language: match[1] ?? '',
    info: (match[2] ?? '').trim(),
    code: match[3] ?? '',
    line: markdown.slice(0, match.index).split('\n').length + 1,
  }))
  const examples: Example[] = []
  blocks.forEach((block, index) => {
    const jsx = TS_LANGUAGES[block.language]
    if (jsx === undefined) return
    const within = /(?:^|\s)in=(\S+)/.exec(block.info)?.[1]
    const flags = new Set(
      block.info
        .replace(/(?:^|\s)in=\S+/, '')
        .split(/\s+/)
        .filter(Boolean),
    )
    for (const flag of flags) {
      if (!FLAGS.has(flag))
        throw new Error(`${page}:${block.line - 1}: unknown example flag "${flag}"`)
    }
    const next = blocks[index + 1]
    const output = next?.language === 'text' && next.info === 'output' ? next.code : undefined
    examples.push({
      page,
      line: block.line,
      continued: flags.has('continued'),
      run: flags.has('run'),
      fragment: flags.has('fragment'),
      jsx,
      code: block.code,
      within,
      output,
    })
  })
  return examples
}

/** Where a page's imports resolve: the nearest workspace package directory above it. */
export function resolutionDirOf(pagePath: string, root = REPO_ROOT): string {
  for (let dir = dirname(pagePath); dir.startsWith(root) && dir !== root; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir
  }
  return PAGES_OUTSIDE_PACKAGES_RESOLVE_FROM
}

/** One file handed to the compiler: the example's code, prefixed by the blocks it continues. */
export interface CheckedFile {
  readonly example: Example
  readonly text: string
  /** Lines of `text` before the example's own code, to map errors back onto the page. */
  readonly prefixLines: number
  /** For a `continued` example: the complete example its text starts with. */
  readonly base?: Example | undefined
}

/** Prefixes each `continued` example with the complete example above it; drops fragments. */
export function filesToCheck(examples: readonly Example[]): CheckedFile[] {
  const files: CheckedFile[] = []
  let base: CheckedFile | undefined
  for (const example of examples) {
    if (example.fragment) continue
    if (!example.continued) {
      base = { example, text: example.code, prefixLines: 0 }
      files.push(base)
      continue
    }
    if (!base) {
      throw new Error(`${example.page}:${example.line}: a continued example needs one above it`)
    }
    const prefix = `${base.text}\n`
    files.push({
      example,
      text: prefix + example.code,
      prefixLines: prefix.split('\n').length - 1,
      base: base.example,
    })
  }
  return files
}

/** A checked file placed in the directory its imports resolve from. */
export interface PlacedFile {
  readonly dir: string
  readonly file: CheckedFile
}

/**
 * Type errors of every file, as `page:line: message`, from one program (the standard library and
 * the packages' types are then checked once): each file sits in its own directory, so its imports
 * resolve from there, under the repository's base compiler options.
 */
export function typeErrors(placed: readonly PlacedFile[]): string[] {
  const config = ts.readConfigFile(join(REPO_ROOT, 'tsconfig.base.json'), ts.sys.readFile)
  const { options } = ts.parseJsonConfigFileContent(config.config, ts.sys, REPO_ROOT)
  Object.assign(options, {
    strict: true,
    noEmit: true,
    noUnusedLocals: false,
    noUnusedParameters: false,
    moduleDetection: ts.ModuleDetectionKind.Force,
    jsx: options.jsx ?? ts.JsxEmit.ReactJSX,
  })
  const byName = new Map(
    placed.map(({ dir, file }, i) => [
      join(dir, `.example-${i}.${file.example.jsx ? 'tsx' : 'ts'}`),
      file,
    ]),
  )
  const host = ts.createCompilerHost(options)
  const { getSourceFile, fileExists, readFile } = host
  host.fileExists = (name) => byName.has(name) || fileExists(name)
  host.readFile = (name) => byName.get(name)?.text ?? readFile(name)
  host.getSourceFile = (name, language, ...rest) => {
    const file = byName.get(name)
    return file === undefined
      ? getSourceFile(name, language, ...rest)
      : ts.createSourceFile(name, file.text, language)
  }
  const program = ts.createProgram([...byName.keys()], options, host)
  return ts.getPreEmitDiagnostics(program).map((diagnostic) => {
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')
    const file = diagnostic.file && byName.get(diagnostic.file.fileName)
    if (!diagnostic.file || !file) return `${diagnostic.file?.fileName ?? 'program'}: ${message}`
    const { line } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start ?? 0)
    const offset = line - file.prefixLines
    const at = offset >= 0 || !file.base ? file.example.line + offset : file.base.line + line
    return `${file.example.page}:${at}: ${message}`
  })
}

/** Every page's checked files, each placed where its imports resolve from. */
export function collectExamples(root = REPO_ROOT): PlacedFile[] {
  return findPages(root).flatMap((pagePath) => {
    const page = relative(root, pagePath)
    const dir = resolutionDirOf(pagePath, root)
    return filesToCheck(extractExamples(readFileSync(pagePath, 'utf8'), page)).map((file) => ({
      dir: file.example.within ? join(dirname(pagePath), file.example.within) : dir,
      file,
    }))
  })
}
