// @vitest-environment node
// The README's examples are documentation of the API: each must compile against the real types.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { expect, it } from 'vitest'

const packageDir = fileURLToPath(new URL('..', import.meta.url))
const readme = readFileSync(`${packageDir}README.md`, 'utf8')
const examples = [...readme.matchAll(/```tsx\n(.*?)```/gs)].map((match) => match[1] ?? '')

let previous: ts.Program | undefined

// Compiles the examples as files of this package, so `@unbroken/react` resolves to its own source
// (a package may import itself by name), with the package's compiler options (JSX included).
const typeErrors = (sources: string[]) => {
  const config = ts.readConfigFile(`${packageDir}tsconfig.json`, ts.sys.readFile)
  const { options } = ts.parseJsonConfigFileContent(config.config, ts.sys, packageDir)
  const files = new Map(sources.map((text, i) => [`${packageDir}readme-example-${i}.tsx`, text]))
  const host = ts.createCompilerHost(options)
  const { getSourceFile, fileExists, readFile } = host
  host.fileExists = (name) => files.has(name) || fileExists(name)
  host.readFile = (name) => files.get(name) ?? readFile(name)
  host.getSourceFile = (name, language, ...rest) => {
    const text = files.get(name)
    return text === undefined
      ? getSourceFile(name, language, ...rest)
      : ts.createSourceFile(name, text, language, true, ts.ScriptKind.TSX)
  }
  // The previous program lends its unchanged files (React's types), which halves the second run.
  const program = ts.createProgram([...files.keys()], options, host, previous)
  previous = program
  return ts
    .getPreEmitDiagnostics(program)
    .map(
      (d) => `${d.file?.fileName ?? ''}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`,
    )
}

// A whole program with React's types: tens of seconds on a loaded 2-core box.
const COMPILE_TIMEOUT_MS = 120_000

it(
  'type-checks every TSX example of the README against the real API',
  () => {
    expect(examples.length).toBeGreaterThanOrEqual(6)
    expect(typeErrors(examples)).toEqual([])
  },
  COMPILE_TIMEOUT_MS,
)

it(
  'fails the check on an example that misuses the API (the check is real)',
  () => {
    const wrong = "import { useLLMStream } from '@unbroken/react'\nuseLLMStream({ url: '/v1' })\n"
    expect(typeErrors([wrong])).toHaveLength(1)
  },
  COMPILE_TIMEOUT_MS,
)
