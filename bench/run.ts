// Runs every benchmark suite in `suites/` (or the ones named on the command line) one after the
// other, so peers are measured side by side on the same machine in the same run.
import { readdir } from 'node:fs/promises'

const suitesDir = new URL('./suites/', import.meta.url)
const wanted = process.argv.slice(2)
const files = (await readdir(suitesDir)).filter((file) => file.endsWith('.ts')).sort()
const selected = wanted.length
  ? files.filter((file) => wanted.some((w) => file.includes(w)))
  : files

if (selected.length === 0) {
  console.error(`no benchmark suite matches ${wanted.join(', ') || '(none found)'}`)
  process.exitCode = 1
}
for (const file of selected) {
  console.log(`\n# ${file.replace(/\.ts$/, '')}`)
  const suite: { default: () => Promise<void> } = await import(new URL(file, suitesDir).href)
  await suite.default()
}
