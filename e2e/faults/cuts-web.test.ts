import { describeCutSuite } from './cut-suite'

// The registry behind a Fetch handler (Hono's Node adapter): the Web ReadableStream writer must
// notice each cut and resume exactly as the Node writer does.
describeCutSuite({
  name: 'memory log, Web writer',
  runs: 200,
  liveRuns: 50,
  setup: async () => ({ runtime: 'web' }),
})
