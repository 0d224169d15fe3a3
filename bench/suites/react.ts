// useLLMStream against the AI SDK's useChat (@ai-sdk/react 3 with ai 6, the newest that install on
// Node 20; v4/v7 need Node 22), in Debian's Chromium, in the same run: the same 10,000-token answer
// at 1,000 tokens/s, each fed by its own server helper (react/server.ts). Per run: React commits
// (<Profiler>, production build with profiling), animation frames, main-thread time per token
// (CDP TaskDuration), and whether the text is exact; then one run each with the connection cut
// mid-answer. Targets (issue 12): ≤ 1 commit per frame, ≤ 1/10 of useChat's default commits.
import { chromiumLaunchOptions, startChild } from '@unbroken/test-kit'
import { type CDPSession, chromium } from 'playwright-core'
import { fmt, interleave, ratio, show, stat, type Target, table, targets } from '../harness'
import { token } from '../payload'
import type { Run } from '../react/page'
import type { Ask } from '../react/server'

const TOKENS = 10_000
const RATE = 1_000
const EXPECTED = Array.from({ length: TOKENS }, (_, index) => token(index)).join('')
const CONTENDERS = ['ours', 'usechat'] as const
type Contender = (typeof CONTENDERS)[number]
const NAMES: Record<Contender, string> = {
  ours: 'useLLMStream',
  usechat: 'useChat (AI SDK 6, defaults)',
}

declare const bench: { ready(): boolean; run(ask: Ask): Promise<Run> }

/** Cumulative main-thread task time of the page's renderer, in ms. */
async function taskMs(cdp: CDPSession): Promise<number> {
  const { metrics } = await cdp.send('Performance.getMetrics')
  return (metrics.find(({ name }) => name === 'TaskDuration')?.value ?? Number.NaN) * 1000
}

interface Measured extends Run {
  /** Main-thread time per token, µs. */
  readonly mainUs: number
}

export default async function reactSuite(): Promise<Target[]> {
  const server = await startChild(`${import.meta.dirname}/../react/server.ts`, {})
  const browser = await chromium.launch(chromiumLaunchOptions())
  /** One answer in a fresh page: what the page counted, and the renderer's main-thread time. */
  const measure = async (contender: Contender, ask: Ask): Promise<Measured> => {
    const context = await browser.newContext()
    try {
      const page = await context.newPage()
      await page.goto(`${server.origin}/?contender=${contender}`)
      await page.waitForFunction(() => bench.ready())
      const cdp = await context.newCDPSession(page)
      await cdp.send('Performance.enable')
      const before = await taskMs(cdp)
      const run = await page.evaluate((ask) => bench.run(ask), ask)
      return { ...run, mainUs: ((await taskMs(cdp)) - before) * (1000 / TOKENS) }
    } finally {
      await context.close()
    }
  }
  try {
    const runs = new Map<Contender, Measured[]>(CONTENDERS.map((c) => [c, []]))
    const commits = await interleave({
      contenders: CONTENDERS,
      label: `${fmt(TOKENS)} tokens at ${fmt(RATE)}/s`,
      measure: async (contender, round) => {
        const run = await measure(contender, { tokens: TOKENS, rate: RATE })
        if (round >= 0) runs.get(contender)?.push(run)
        return run.commits
      },
    })
    const cut = new Map<Contender, Measured>()
    for (const contender of CONTENDERS)
      cut.set(
        contender,
        await measure(contender, { tokens: TOKENS, rate: RATE, cutAt: TOKENS / 2 }),
      )
    const of = (contender: Contender) => runs.get(contender) ?? []
    const perFrame = (contender: Contender) => of(contender).map((r) => r.commits / r.frames)
    table(
      CONTENDERS.map((contender) => ({
        hook: NAMES[contender],
        commits: show(stat(commits.get(contender) ?? []), 0, ''),
        'commits/frame': show(stat(perFrame(contender)), 2, ''),
        'main thread µs/token': show(stat(of(contender).map((r) => r.mainUs)), 1, ''),
        'text exact': `${of(contender).filter((r) => r.text === EXPECTED).length}/${of(contender).length}`,
        'after one cut': `${cut.get(contender)?.text === EXPECTED ? 'exact' : 'wrong'} (${cut.get(contender)?.status}, ${fmt((cut.get(contender)?.text.length ?? 0) / EXPECTED.length, 2)} of the text)`,
      })),
    )
    const goals: Target[] = [
      {
        name: 'useLLMStream commits per animation frame',
        value: stat(perFrame('ours')),
        atMost: 1,
      },
      {
        name: "useLLMStream commits / useChat's default commits",
        value: ratio(commits.get('ours') ?? [], commits.get('usechat') ?? []),
        atMost: 0.1,
      },
    ]
    targets(goals)
    return goals
  } finally {
    await browser.close()
    await server.stop()
  }
}
