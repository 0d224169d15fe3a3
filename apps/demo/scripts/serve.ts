// `pnpm demo`: the built app (dist/, from `vite build`) served by the proxy on one origin.
import { fileURLToPath } from 'node:url'
import { forwardSignals, startDemoProxy } from './proxy'

const dist = fileURLToPath(new URL('../dist', import.meta.url))
const { url, child } = await startDemoProxy(['--static-dir', dist, ...process.argv.slice(2)])
forwardSignals(child)
console.log(`\n  Unbroken demo: ${url}/\n`)
