// `pnpm dev`: Vite with hot reload on 127.0.0.1:5173, its /v1 and /demo requests proxied to an
// unbroken-proxy started beside it (without static files: Vite serves the app).
import { createServer } from 'vite'
import { forwardSignals, startDemoProxy } from './proxy'

const { url, child } = await startDemoProxy(process.argv.slice(2))
process.env.DEMO_PROXY_URL = url
const vite = await createServer({
  configFile: new URL('../vite.config.ts', import.meta.url).pathname,
})
await vite.listen()
forwardSignals(child)
child.once('exit', () => void vite.close())
console.log(`\n  Unbroken demo (hot reload): ${vite.resolvedUrls?.local[0]}\n`)
