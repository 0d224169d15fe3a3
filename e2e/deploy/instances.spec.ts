// Issue 16, point 2: an instance behind nginx is stopped or killed mid-stream, and both are
// restarted one after the other under 20 concurrent browser streams.
import { readLoggedAt } from './log'
import { deltaText, expect, instanceOf, letters, test } from './scenario'
import { deliveredEvents, type WireConnection } from './wire'

const hasToken = (connection: WireConnection | undefined) =>
  connection?.events.some((event) => event.type === 'delta') ?? false

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

test('a rolling restart of both instances during 20 concurrent browser streams: every stream completes, exact', async ({
  scenario,
  browser,
}) => {
  test.setTimeout(360_000)
  const context = await browser.newContext()
  try {
    const demos = await Promise.all(
      Array.from({ length: 20 }, async () => scenario.open(await context.newPage())),
    )
    const asked = await Promise.all(
      demos.map(async (demo, index) => ({
        demo,
        request: await demo.ask(`Rolling restart, stream ${index}`),
      })),
    )
    // Every answer has begun: its first token reached the page.
    await expect
      .poll(() => demos.filter((demo) => hasToken(demo.wire.connections[0])).length, {
        timeout: 120_000,
      })
      .toBe(demos.length)
    // A deploy: each instance in turn drains (its streams resume on the other) and comes back.
    for (const instance of scenario.topology.instances) {
      scenario.faulted = instance
      await instance.stop()
      await instance.start()
    }
    scenario.faulted = undefined
    await Promise.all(asked.map(({ demo, request }) => scenario.expectExactAnswer(demo, request)))
    const resumed = demos.filter((demo) => demo.wire.connections.some((c) => c.lastEventId))
    console.info(`${resumed.length} of ${demos.length} streams were moved by the restarts`)
    expect(resumed.length, 'pages whose stream a restart moved').toBeGreaterThan(0)
  } finally {
    await context.close()
  }
})
