// Issue 16, point 2: what happens at the user's end, through nginx: the token expires, the page
// reloads, the network slows down and then goes away for 10 s.
import { createFaultProxy } from '@unbroken/test-kit'
import { expect, test } from './scenario'

test('a token expiring mid-stream is refreshed and the stream continues', async ({
  scenario,
  page,
}) => {
  const demo = await scenario.open(page)
  // Tokens minted from now on live 7 s; the proxy ends a connection 5 s before its expiry.
  await page.getByLabel('Token lifetime').selectOption('7')
  let minted = 0
  page.on('request', (request) => {
    if (request.method() === 'POST' && request.url().endsWith('/v1/auth/token')) minted += 1
  })
  const request = await demo.ask('How do tokens expire?')
  await scenario.expectExactAnswer(demo, request)
  const expired = demo.wire.connections.filter((c) =>
    c.events.some((e) => e.type === 'auth-expired'),
  )
  expect(expired.length).toBeGreaterThan(0)
  expect(minted).toBeGreaterThan(expired.length)
})

test('a page reloaded mid-stream through nginx re-attaches and shows the whole answer once', async ({
  scenario,
  page,
}) => {
  const demo = await scenario.open(page)
  const request = await demo.ask('Reload me halfway')
  await demo.midAnswer()
  await page.reload()
  await scenario.expectExactAnswer(demo, request)
  expect(demo.wire.connections.filter((c) => c.method === 'POST')).toHaveLength(1)
  expect(demo.wire.connections.length).toBeGreaterThan(1)
})

test('throttled, then offline for 10 s: the stream resumes when the network is back', async ({
  scenario,
  page,
}) => {
  // Chromium's offline emulation (CDP) fails new requests but leaves an established response
  // streaming; a real outage also ends the open connection. So the page reaches nginx through a
  // fault proxy that cuts its connections at the moment CDP takes the network away.
  const network = await createFaultProxy({ targetPort: scenario.topology.nginx.port })
  try {
    const demo = await scenario.open(page, network.origin)
    // A slow mobile link (300 ms, 4 KB/s), for the requests made on it.
    await demo.wire.emulate({ offline: false, latencyMs: 300, bytesPerSecond: 4_000 })
    const request = await demo.ask('What if the network goes away?')
    await demo.midAnswer()
    await demo.wire.emulate({ offline: true })
    network.cutAll()
    await page.waitForTimeout(10_000)
    const offline = demo.wire.connections.length
    await demo.wire.emulate({ offline: false })
    await scenario.expectExactAnswer(demo, request)
    expect(demo.wire.connections[0]?.end, 'the connection open when the network went').toBe(
      'failed',
    )
    const answered = demo.wire.connections.slice(1, offline).filter((c) => c.status !== undefined)
    expect(answered, 'requests answered while offline').toEqual([])
    const resumed = demo.wire.connections.slice(offline)
    expect(resumed.some((c) => c.status === 200 && c.lastEventId !== undefined)).toBe(true)
  } finally {
    await network.close()
  }
})
