import { describeCutSuite } from './cut-suite'

const RUNS = Number(process.env.E2E_CUT_RUNS ?? 1_000)

describeCutSuite({
  name: 'memory log, Node writer',
  runs: RUNS,
  liveRuns: Math.ceil(RUNS / 10),
  setup: async () => ({}),
})
