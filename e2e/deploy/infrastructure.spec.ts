// Issue 16, point 2: the shared parts under the instances are disturbed mid-stream: Redis is
// killed and restarted from its append-only file, and nginx reloads its configuration.
import { readLoggedAt } from './log'
import { deltaText, expect, letters, test } from './scenario'
import { deliveredEvents } from './wire'

test('Redis killed and restarted (AOF) mid-stream: the stream continues, or fails clearly, nothing shown twice', async ({
  scenario,
  page,
}) => {
  const demo = await scenario.open(page)
  const request = await demo.ask('What if Redis restarts?')
  await demo.midAnswer()
  await scenario.topology.redis.restart()
  const status = page.getByTestId('status')
  await expect(status).toHaveText(/^(Done|Error)$/, { timeout: 120_000 })
  if ((await status.textContent()) === 'Done') {
    await scenario.expectExactAnswer(demo, request)
    return
  }
  // Failed: with its code and what to do, after exactly what the log kept up to there.
  const alert = page.getByRole('alert')
  await expect(alert.locator('code')).toHaveText(/^[a-z-]+$/)
  await expect(alert.getByRole('button', { name: 'Regenerate' })).toBeVisible()
  const streamId = demo.wire.connections[0]?.streamId as string
  const delivered = deliveredEvents(demo.wire.connections, streamId)
  const logged = await readLoggedAt(scenario.topology.redis.url, streamId)
  expect(delivered).toEqual(logged.slice(0, delivered.length))
  const shown = await page.getByTestId('live-answer').locator('.markdown').textContent()
  expect(letters(shown ?? '')).toEqual(letters(deltaText(delivered)))
})

test('nginx reloaded mid-stream: the old worker lets go of the connection and the stream continues through the new one', async ({
  scenario,
  page,
}) => {
  const demo = await scenario.open(page)
  const request = await demo.ask('What does a reload do?')
  await demo.midAnswer()
  await scenario.topology.nginx.reload()
  await scenario.expectExactAnswer(demo, request)
  // The old worker closed the stream's connection (worker_shutdown_timeout): it was resumed.
  expect(demo.wire.connections.filter((c) => c.lastEventId !== undefined).length).toBeGreaterThan(0)
})
