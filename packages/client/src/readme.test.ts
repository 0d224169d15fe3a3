// The README's examples are documentation of the API: each must compile against the real types,
// and the quick start must print what the README says it prints.
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import ts from 'typescript'
import { expect, it } from 'vitest'

const packageDir = fileURLToPath(new URL('..', import.meta.url))
const readme = readFileSync(`${packageDir}README.md`, 'utf8')
const examples = [...readme.matchAll(/```ts\n(.*?)```/gs)].map((match) => match[1] ?? '')

// Compiles the examples as files of this package, so `@unbroken/client` resolves to its own source
// (a package may import itself by name), with the repository's compiler options.
const typeErrors = (sources: string[]) => {
  const configPath = `${packageDir}tsconfig.json`
  const config = ts.readConfigFile(configPath, ts.sys.readFile)
  const { options } = ts.parseJsonConfigFileContent(config.config, ts.sys, packageDir)
  const files = new Map(sources.map((text, i) => [`${packageDir}readme-example-${i}.ts`, text]))
  const host = ts.createCompilerHost(options)
  const { getSourceFile, fileExists, readFile } = host
  host.fileExists = (name) => files.has(name) || fileExists(name)
  host.readFile = (name) => files.get(name) ?? readFile(name)
  host.getSourceFile = (name, language, ...rest) => {
    const text = files.get(name)
    return text === undefined
      ? getSourceFile(name, language, ...rest)
      : ts.createSourceFile(name, text, language)
  }
  const program = ts.createProgram([...files.keys()], options, host)
  return ts
    .getPreEmitDiagnostics(program)
    .map(
      (d) => `${d.file?.fileName ?? ''}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`,
    )
}

it('type-checks every TypeScript example of the README against the real API', () => {
  expect(examples.length).toBeGreaterThanOrEqual(5)
  expect(typeErrors(examples)).toEqual([])
})

it('fails the check on an example that misuses the API (the check is real)', () => {
  const wrong = "import { createEventStream } from '@unbroken/client'\ncreateEventStream(1)\n"
  expect(typeErrors([wrong])).toHaveLength(1)
})

it('runs the quick start as is, and it prints what the README says', async () => {
  const quickStart = examples[0] ?? ''
  expect(quickStart).toContain('// Hello, world')
  // tsx's own CLI, because `node --import tsx -e` does not transform TypeScript.
  const tsx = createRequire(import.meta.url).resolve('tsx/cli')
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [tsx, '--conditions=@unbroken/source', '-e', quickStart],
    { cwd: packageDir, timeout: 15_000 },
  )
  expect(stdout).toBe('Hello, world\n')
})
