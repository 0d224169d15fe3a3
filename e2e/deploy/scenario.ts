/**
 * What the browser scenarios share (issue 16, points 2 and 5): the deployment serving the built
 * demo, started once per Playwright worker; the demo opened through nginx with its stream
 * connections recorded; the checks every scenario makes (the answer the page keeps is the model's,
 * exactly; what reached the browser is what the Redis log holds, nothing twice); and, when a
 * scenario fails, a message with its seed, the topology's ports, each page's connections, the
 * first differing event and the logs of the instance it broke.
 */
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { test as base, expect, type Page, type Request, type TestInfo } from '@playwright/test'
import { baseSeed, describeSeed } from '@unbroken/test-kit'
import { ask, finishedAnswer, midAnswer, status } from '../../apps/demo/e2e/support'
import { type ComparableEvent, describeFirstDifference } from '../support/compare'
import { type AskBody, simulatedAnswer } from './answer'
import type { ProxyInstance } from './instance'
import { readLoggedAt } from './log'
import { startTopology, type Topology } from './topology'
import { deliveredEvents, recordWire, type Wire, type WireConnection } from './wire'

const DEMO_DIST = `${import.meta.dirname}/../../apps/demo/dist`

// Generous for a loaded 2-core machine; a hang still fails, with the scenario's story.
const ANSWER_TIMEOUT_MS = 120_000

// nginx gives up on a silent upstream after 4 s, and "Long prefill" thinks for 6 s: only the
// instances' keepalive comments (every second) keep such a stream open. The 2 s between them
// absorb a response head that a loaded machine delivers late (1.2 s at a load average of 25).
export const NGINX_READ_TIMEOUT_MS = 4_000

// The simulated model's tokens per second: an answer (100-250 tokens) runs for 7-17 s, long
// enough to break something in the middle of it.
export const SIM_RATE = 15

/** The demo, opened in one page through nginx, with its stream connections recorded. */
export interface DemoPage {
  readonly page: Page
  readonly wire: Wire
  /** Types a question, sends it and resolves with the POST the app made for it. */
  ask(question: string): Promise<Request>
  /** Waits until the answer shows some text. */
  midAnswer(): Promise<void>
  /** The instance nginx sent the page's latest stream connection to. */
  serving(): ProxyInstance
}

/** One scenario: its seed, the deployment, and every page it opened. */
export interface Scenario {
  readonly seed: number
  readonly topology: Topology
  readonly pages: readonly DemoPage[]
  /** The instance the scenario broke, whose logs a failure shows first. */
  faulted: ProxyInstance | undefined
  /** Uncaught exceptions of the pages: an app that throws fails its scenario. */
  readonly pageErrors: readonly string[]
  /**
   * Opens the demo in `page` (the test's own, or one from another context) through nginx, or
   * through `origin` (a hop in front of nginx).
   */
  open(page: Page, origin?: string): Promise<DemoPage>
  /**
   * Waits (bounded) for the answer to `request` to finish, then checks it: the text the app keeps
   * is the simulated model's exactly, and the events that reached the browser over all its
   * connections are the Redis log's, in order, each once.
   */
  expectExactAnswer(demo: DemoPage, request: Request): Promise<void>
  /** What a failed scenario prints. */
  explain(testInfo: TestInfo): Promise<string>
}

export const test = base.extend<{ scenario: Scenario }, { topology: Topology }>({
  topology: [
    // biome-ignore lint/correctness/noEmptyPattern: Playwright requires a destructured first argument.
    async ({}, use) => {
      const topology = await startDemoTopology()
      await use(topology)
      await topology.close()
    },
    // Two instances compile the proxy with tsx one after the other: seconds on a busy machine.
    { scope: 'worker', timeout: 180_000 },
  ],
  scenario: async ({ topology }, use, testInfo) => {
    // Whatever the last scenario stopped runs again, so each starts from the whole deployment.
    await topology.heal()
    const scenario = createScenario(topology)
    await use(scenario)
    if (testInfo.status !== testInfo.expectedStatus) {
      const story = await scenario.explain(testInfo)
      console.error(story)
      await testInfo.attach('deployment', { body: story, contentType: 'text/plain' })
    }
    expect(scenario.pageErrors, 'uncaught exceptions in the pages').toEqual([])
  },
})

export { expect }

/** The deployment serving the built demo, with Redis persisted to an AOF (for its restart). */
async function startDemoTopology(): Promise<Topology> {
  if (!existsSync(`${DEMO_DIST}/index.html`)) {
    throw new Error('apps/demo is not built: run `pnpm --filter @unbroken/demo build` first')
  }
  return startTopology({
    persistentRedis: true,
    nginxReadTimeoutMs: NGINX_READ_TIMEOUT_MS,
    instanceEnv: {
      UNBROKEN_STATIC_DIR: DEMO_DIST,
      // The network panel's controls: "Long prefill" and the token lifetime come from them.
      UNBROKEN_DEMO_CONTROLS: 'on',
      // One secret for both instances: a token minted by one is honoured by the other.
      UNBROKEN_TOKEN_SECRET: randomBytes(32).toString('base64url'),
      UNBROKEN_SIM_RATE: String(SIM_RATE),
      // A SIGTERM lets every running generation finish into the log, however slow the machine.
      UNBROKEN_SHUTDOWN_GRACE: '300s',
    },
  })
}

function createScenario(topology: Topology): Scenario {
  const seed = baseSeed()
  const pages: DemoPage[] = []
  const pageErrors: string[] = []
  const scenario: Scenario = {
    seed,
    topology,
    pages,
    faulted: undefined,
    pageErrors,
    async open(page, origin = topology.origin) {
      const wire = await recordWire(page)
      page.on('pageerror', (error) => pageErrors.push(`page ${pages.length}: ${error.message}`))
      // The app picks each question's model seed with Math.random: seeded from the scenario's
      // seed (and the page's number), a failed run asks the same questions when replayed.
      await page.addInitScript(seedMathRandom, seed + pages.length)
      await page.goto(origin)
      await expect(page.getByRole('textbox', { name: 'Your question' })).toBeEditable()
      const demo: DemoPage = {
        page,
        wire,
        ask: (question) => ask(page, question),
        midAnswer: () => midAnswer(page),
        serving: () => instanceOf(topology, wire.connections.at(-1)),
      }
      pages.push(demo)
      return demo
    },
    async expectExactAnswer(demo, request) {
      await expect(status(demo.page)).toHaveText('Done', { timeout: ANSWER_TIMEOUT_MS })
      const answer = await finishedAnswer(demo.page)
      expect(answer).toBe(await simulatedAnswer(request.postDataJSON() as AskBody))
      // The answer's stream: the page's latest POST (a Regenerate asks again).
      const streamId = demo.wire.connections.filter((c) => c.method === 'POST').at(-1)?.streamId
      expect(streamId, 'the POST named its stream (Content-Location)').toBeDefined()
      const logged = await readLoggedAt(topology.redis.url, streamId as string)
      // The DevTools events that carry the last bytes may reach the test after the app is done.
      await expect
        .poll(
          () =>
            describeFirstDifference(
              { scenario: `stream ${streamId}, page against the Redis log`, seed },
              logged,
              deliveredEvents(demo.wire.connections, streamId as string, logged),
            ),
          { message: 'the events that reached the browser', timeout: 10_000 },
        )
        .toBeUndefined()
    },
    explain: (testInfo) => explain(scenario, testInfo),
  }
  return scenario
}

/** Replaces the page's Math.random with a seeded one (mulberry32), before the app's scripts run. */
function seedMathRandom(seed: number) {
  let state = seed >>> 0
  Math.random = () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** The instance nginx sent a connection to (the last one it tried, from `X-Unbroken-Upstream`). */
export function instanceOf(
  topology: Topology,
  connection: WireConnection | undefined,
): ProxyInstance {
  const port = Number(connection?.upstream?.split(', ').at(-1)?.split(':').at(-1))
  return topology.instanceOn(port)
}

/** The text of the `delta` events among `events`, as the app joins it. */
export function deltaText(events: readonly ComparableEvent[]): string {
  return events
    .filter((event) => event.type === 'delta')
    .map((event) => (JSON.parse(event.data) as { text?: string }).text ?? '')
    .join('')
}

async function explain(scenario: Scenario, testInfo: TestInfo): Promise<string> {
  const { seed, topology, pages, faulted } = scenario
  const sections = await Promise.all(
    pages.map(async ({ wire }, index) => {
      const lines = wire.connections.map((c, number) => {
        const ids = c.events.length > 0 ? `${c.events[0]?.id}…${c.events.at(-1)?.id}` : 'none'
        const after = c.lastEventId === undefined ? '' : ` after ${c.lastEventId}`
        return `    #${number} ${c.method} ${c.streamId ?? '(no stream)'}${after} → ${c.status ?? '-'} via ${c.upstream ?? '-'}: ${c.events.length} events (${ids}), ${c.end}`
      })
      const streams = [...new Set(wire.connections.flatMap((c) => c.streamId ?? []))]
      const differences = await Promise.all(
        streams.map(async (streamId) => {
          const logged = await readLoggedAt(topology.redis.url, streamId).catch(
            (error: unknown) => `reading its log failed: ${String(error)}`,
          )
          if (typeof logged === 'string') return `    stream ${streamId}: ${logged}`
          return (
            describeFirstDifference(
              { scenario: `    stream ${streamId}, page against the Redis log` },
              logged,
              deliveredEvents(wire.connections, streamId),
            ) ?? `    stream ${streamId}: the page got the ${logged.length} events its log holds`
          )
        }),
      )
      return [`  page ${index}:`, ...lines, ...differences].join('\n')
    }),
  )
  const logs = (faulted ? [faulted] : topology.instances).map(
    (instance) => `logs of instance ${instance.name}:\n${tail(instance.output(), 60)}`,
  )
  return [
    `${testInfo.title}, ${describeSeed(seed)}`,
    `topology: ${topology.summary()}`,
    'stream connections per page:',
    ...sections,
    ...logs,
    tail(topology.nginx.output(), 40),
  ].join('\n')
}

/**
 * The letters of a text, in order and run together: what a reader sees of it whether it is shown
 * as Markdown or not (markup, list numbers, a code fence's language and spacing are not letters).
 * Checks that a page shows all of an answer that ended midway, against the events it got.
 */
export function letters(text: string): string {
  return (text.replace(/^```\w*/gm, '').match(/\p{L}+/gu) ?? []).join('')
}

const tail = (text: string, lines: number) => text.split('\n').slice(-lines).join('\n')
