import { defineConfig } from 'tsup'

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    'testing/index': 'src/testing/index.ts',
    express: 'src/frameworks/express.ts',
    fastify: 'src/frameworks/fastify.ts',
    hono: 'src/frameworks/hono.ts',
    next: 'src/frameworks/next.ts',
  },
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
  external: ['vitest'],
})
