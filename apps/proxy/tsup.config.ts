import { defineConfig } from 'tsup'

// The `unbroken-proxy` bin: one ESM file; dependencies (workspace packages included) stay imports.
export default defineConfig({
  entry: ['src/main.ts'],
  format: ['esm'],
  sourcemap: true,
  clean: true,
  target: 'es2022',
})
