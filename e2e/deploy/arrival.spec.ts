// Issue 16, point 1: through nginx's defaults that bite (proxy_buffering on, HTTP/1.1 keepalive
// to the instances, a proxy_read_timeout shorter than the prefill), the answer reaches the browser
// token by token, on one connection. Proved by when the events arrived at Chromium's network
// stack, not by reading headers.
import { expect, NGINX_READ_TIMEOUT_MS, SIM_RATE, test } from './scenario'

test('tokens arrive one by one through nginx, after a silent prefill longer than its read timeout', async ({
  scenario,
  page,
}) => {
  const demo = await scenario.open(page)
  // The next answer thinks for 6 s before its first token.
  await page.getByRole('switch', { name: 'Long prefill' }).check()
  const request = await demo.ask('How do tokens reach the browser?')
  await scenario.expectExactAnswer(demo, request)

  // nginx never gave up on the silent prefill: one connection, to the end, no resume.
  expect(demo.wire.connections.map((c) => [c.method, c.status, c.events.at(-1)?.type])).toEqual([
    ['POST', 200, 'done'],
  ])
  const [connection] = demo.wire.connections
  const deltas = connection?.events.filter((event) => event.type === 'delta') ?? []
  const arrivals = deltas.map((event) => event.arrivedMs)
  const first = arrivals[0] as number
  const last = arrivals.at(-1) as number
  expect(first - (connection?.respondedMs as number)).toBeGreaterThan(NGINX_READ_TIMEOUT_MS)
  // Token by token: the model paces them 1/SIM_RATE s apart (±30%), and they arrived spread
  // over that time, in many separate network reads. A buffering hop delivers them in a few
  // bursts (or all at the end), however long the generation took.
  const generationMs = ((deltas.length - 1) * 1000 * 0.7) / SIM_RATE
  const reads = new Set(arrivals).size
  console.info(
    `${deltas.length} deltas arrived over ${(last - first).toFixed(0)} ms in ${reads} network reads, the first ${(first - (connection?.respondedMs as number)).toFixed(0)} ms after the response head`,
  )
  expect(last - first).toBeGreaterThan(generationMs / 2)
  expect(reads).toBeGreaterThan(deltas.length / 2)
})
