import { defineConfig } from 'tsup'

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
  // Keep the `node:` prefix: it marks Node built-ins for bundlers and size-limit alike.
  removeNodeProtocol: false,
})
