import { defineConfig } from 'tsup'

export default defineConfig({
  entry: { index: 'src/index.ts', parser: 'src/parser-entry.ts', store: 'src/store-entry.ts' },
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
})
