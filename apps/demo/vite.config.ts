import react from '@vitejs/plugin-react'
import { defaultClientConditions, defineConfig } from 'vite'

// The proxy that `pnpm dev` starts beside Vite (scripts/dev.ts); the app calls it on its own origin.
const proxyTarget = process.env.DEMO_PROXY_URL ?? 'http://127.0.0.1:8787'

export default defineConfig({
  plugins: [react()],
  // Workspace packages from source: no build of @unbroken/react or /client is needed first, and
  // editing them hot-reloads the app.
  resolve: { conditions: ['@unbroken/source', ...defaultClientConditions] },
  server: {
    host: '127.0.0.1',
    proxy: Object.fromEntries(['/v1', '/demo', '/metrics'].map((path) => [path, proxyTarget])),
  },
  build: { reportCompressedSize: true },
})
