// `pnpm bench [suite…] [--force]`: runs every suite in `suites/` (or the ones named), one after the
// other, so peers are measured side by side on the same machine in the same run. Refuses to start
// on a busy machine unless forced; ends with every suite's targets and the machine's state.
import { readdir } from 'node:fs/promises'
import { markdown, ROUNDS, type Target, verdict } from './harness'
import { loadGate, watchMachine } from './machine'

const suitesDir = new URL('./suites/', import.meta.url)
const wanted = process.argv.slice(2).filter((arg) => !arg.startsWith('--'))
const files = (await readdir(suitesDir)).filter((file) => file.endsWith('.ts')).sort()
const selected = wanted.length
  ? files.filter((file) => wanted.includes(file.replace(/\.ts$/, '')))
  : files

if (selected.length === 0) {
  console.error(`no benchmark suite named ${wanted.join(', ')}; suites: ${files.join(', ')}`)
  process.exit(1)
}
if (!loadGate()) process.exit(1)
if (ROUNDS < 7)
  console.log(`BENCH_ROUNDS=${ROUNDS} < 7: figures from this run are not fit for the README`)

const summary: string[] = []
const rows: string[] = []
const started = performance.now()
for (const file of selected) {
  const name = file.replace(/\.ts$/, '')
  console.log(`\n# ${name}`)
  const watch = watchMachine()
  const suite: { default: () => Promise<readonly Target[]> } = await import(
    new URL(file, suitesDir).href
  )
  const goals = await suite.default()
  const machine = watch.stop()
  console.log(`\n  ${name}: ${machine}`)
  summary.push(`${name} (${machine})`)
  for (const goal of goals) summary.push(`  ${verdict(goal)}`)
  rows.push(`| **${name}** (${machine}) | | |`, ...markdown(goals))
}
console.log(`\n# summary (${((performance.now() - started) / 60_000).toFixed(1)} min)`)
for (const line of summary) console.log(line)
console.log('\n# the same, as Markdown rows for the READMEs (median, lowest–highest round)\n')
console.log('| target | result | vs the physical limit |\n| --- | --- | --- |')
for (const row of rows) console.log(row)
