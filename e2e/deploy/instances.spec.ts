// Issue 16, point 2: an instance behind nginx is stopped or killed mid-stream, and both are
// restarted one after the other under 20 concurrent browser streams.
import type { Page, Route } from '@playwright/test'
import type { ProxyInstance } from './instance'
import { readLoggedAt } from './log'
import { deltaText, expect, instanceOf, letters, test } from './scenario'
import { deliveredEvents } from './wire'

test('SIGTERM of the instance serving the stream: the page resumes through the other one and loses nothing', async ({
  scenario,
  page,
}) => {
  const demo = await scenario.open(page)
  const request = await demo.ask('What happens during a deploy?')
  await demo.midAnswer()
  const serving = demo.serving()
  scenario.faulted = serving
  const stopped = serving.stop()
  await scenario.expectExactAnswer(demo, request)
  await stopped
  const other = scenario.topology.instances.find((instance) => instance !== serving)
  const resumedVia = demo.wire.connections
    .filter((c) => c.lastEventId !== undefined && c.status === 200)
    .map((c) => instanceOf(scenario.topology, c))
  expect(resumedVia).toContain(other)
})

test('SIGKILL of the instance serving and producing the stream: all it produced is shown, then producer-lost with Regenerate', async ({
  scenario,
  page,
}) => {
  const demo = await scenario.open(page)
  await demo.ask('What happens in a crash?')
  await demo.midAnswer()
  // The POST's connection is still the only one: the instance that answered it serves the page
  // and runs the generation.
  expect(demo.wire.connections).toHaveLength(1)
  const producer = demo.serving()
  scenario.faulted = producer
  await producer.kill()

  const alert = page.getByRole('alert')
  await expect(alert).toContainText('producer-lost', { timeout: 60_000 })
  await expect(page.getByTestId('status')).toHaveText('Error')
  const streamId = demo.wire.connections[0]?.streamId as string
  const logged = await readLoggedAt(scenario.topology.redis.url, streamId)
  // Everything produced reached the page, once, and the page shows all of it.
  expect(deliveredEvents(demo.wire.connections, streamId)).toEqual(logged)
  const shown = await page.getByTestId('live-answer').locator('.markdown').textContent()
  expect(letters(shown ?? '')).toEqual(letters(deltaText(logged)))
  expect(deltaText(logged).length).toBeGreaterThan(0)

  const regenerated = page.waitForRequest(
    (request) => request.method() === 'POST' && request.url().endsWith('/v1/streams'),
  )
  await alert.getByRole('button', { name: 'Regenerate' }).click()
  await scenario.expectExactAnswer(demo, await regenerated)
})

// The instance restarted second runs a model this many tokens per second (the first runs
// SIM_RATE = 15): a rolling restart can only move a stream while it runs, and the second instance
// drains only after the first has drained (which lasts as long as the first's longest answer, at
// most about 17 s) and its replacement is ready. Its answers (100-250 tokens) last 33-83 s.
const SLOW_RATE = 3

test('a rolling restart of both instances during 20 concurrent browser streams: every stream is handed off mid-answer and completes, exact', async ({
  scenario,
  browser,
}) => {
  test.setTimeout(360_000)
  const { topology } = scenario
  const [first, second] = topology.instances
  // One context per page, as 20 users have 20 browsers: pages of one context share its pool of 6
  // connections per host, so at most 6 of their streams ran at once and the rest waited in
  // Chromium's queue (some past the client's timeout).
  const contexts = await Promise.all(Array.from({ length: 20 }, () => browser.newContext()))
  try {
    const [demos] = await Promise.all([
      Promise.all(contexts.map(async (context) => scenario.open(await context.newPage()))),
      (async () => {
        await second.stop()
        await second.start({ UNBROKEN_SIM_RATE: String(SLOW_RATE) })
      })(),
    ])
    // The 20 POSTs leave together, so every answer is running when the first instance drains:
    // asked one after the other on a loaded machine, the first answers ended before the last began.
    const posts = await holdPosts(demos.map((demo) => demo.page))
    const asked = await Promise.all(
      demos.map(async (demo, index) => ({
        demo,
        request: await demo.ask(`Rolling restart, stream ${index}`),
      })),
    )
    const before = startedGenerations(topology.instances)
    await posts.release()
    // Every generation runs (the instances say so: the browser, busy with 20 pages, learns it
    // seconds later), so every page is mid-stream on the instance that serves it.
    await expect
      .poll(() => startedGenerations(topology.instances) - before, { timeout: 120_000 })
      .toBeGreaterThanOrEqual(demos.length)
    // A deploy: each instance in turn drains (SIGTERM) and exits, then its replacement starts (with
    // the topology's own configuration) and is ready before the next one drains.
    for (const instance of [first, second]) {
      scenario.faulted = instance
      await instance.stop()
      await instance.start()
    }
    scenario.faulted = undefined
    await Promise.all(asked.map(({ demo, request }) => scenario.expectExactAnswer(demo, request)))

    // Each page's path: the instance of each connection answered 200, in order ("A → B").
    const paths = demos.map((demo) =>
      demo.wire.connections
        .filter((c) => c.status === 200)
        .map((c) => instanceOf(topology, c).name)
        .join(' → '),
    )
    const moves = (from: string, to: string) =>
      paths.filter((path) => path.includes(`${from} → ${to}`)).length
    console.info(
      `rolling restart: ${moves(first.name, second.name)} streams moved ${first.name} → ${second.name}, ${moves(second.name, first.name)} moved ${second.name} → ${first.name}; paths: ${paths.join(', ')}`,
    )
    // A drain hands every connection off (agreement A7), and every generation was running when
    // the instance producing it drained: every page served by that instance resumed. A page
    // whose POST nginx had to send again (an instance slower than nginx's read timeout to answer
    // it on a loaded machine, or draining) may be served by the other one: it moves only if that
    // one drains while its answer runs.
    const servedByProducer = demos.filter((demo) => {
      const posts = demo.wire.connections.filter((c) => c.method === 'POST')
      return posts.length === 1 && !posts[0]?.upstream?.includes(',')
    })
    const resumed = servedByProducer.filter((demo) =>
      demo.wire.connections.some((c) => c.lastEventId !== undefined && c.status === 200),
    )
    console.info(
      `${resumed.length} of the ${servedByProducer.length} pages served by the instance producing their answer resumed after its drain`,
    )
    expect(resumed.length, `pages that resumed after a drain; paths: ${paths.join(', ')}`).toBe(
      servedByProducer.length,
    )
    // How many pages that is depends on the machine, not on the product: at a load average of 25
    // a freshly restarted instance answered 7 of the 20 POSTs later than nginx's 4 s read timeout
    // (nginx sent them again to the other one: 504, then 200), and with the pages whose POST was
    // sent twice, 10 of 20 were left. The
    // equality above is the claim; this only keeps it from holding for no page at all.
    expect(servedByProducer.length, 'pages served by their producer').toBeGreaterThan(0)
    // nginx's round robin sends a handed-off page to either instance; a draining one still serves
    // the answers it produces to their end. So streams moved in both directions: each drain
    // handed streams to the other instance.
    expect(moves(first.name, second.name), 'streams moved by the first drain').toBeGreaterThan(0)
    expect(moves(second.name, first.name), 'streams moved by the second drain').toBeGreaterThan(0)
  } finally {
    await Promise.all(contexts.map((context) => context.close()))
  }
})

/** How many generations the instances started (their `stream started` lines), restarts included. */
const startedGenerations = (instances: readonly ProxyInstance[]) =>
  instances.reduce((sum, instance) => sum + instance.output().split(STARTED).length - 1, 0)
const STARTED = '"msg":"stream started"'

/**
 * Holds the `POST /v1/streams` of each page until every page has made one; `release` (bounded by
 * the test's timeout) then lets them all go at once.
 */
async function holdPosts(pages: readonly Page[]) {
  const held: Route[] = []
  let allHeld: () => void = () => {}
  const ready = new Promise<void>((resolve) => {
    allHeld = resolve
  })
  const hold = (route: Route) => {
    held.push(route)
    if (held.length === pages.length) allHeld()
  }
  await Promise.all(pages.map((page) => page.route(STREAMS_POST, hold)))
  return {
    async release() {
      await ready
      await Promise.all(held.map((route) => route.continue()))
      await Promise.all(pages.map((page) => page.unroute(STREAMS_POST, hold)))
    },
  }
}

// The demo's POST (a resume is a GET of `/v1/streams/<id>`, which this glob does not match).
const STREAMS_POST = '**/v1/streams'
