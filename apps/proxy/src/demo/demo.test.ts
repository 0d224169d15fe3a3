// The demo's additions over real loopback sockets: its network controls cut and throttle one
// client's stream connections and nobody else's, the generation never notices, and the built app's
// files are served beside the API. Both are off unless asked for.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseSse, readSse, type SseEvent } from '@unbroken/test-kit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  chat,
  directFetch,
  lastIdOf,
  postStream,
  startTestProxy,
  type TestProxy,
  textOf,
} from '../test-proxy'

const TAB = 'tab-aaaaaaaa'
const OTHER_TAB = 'tab-bbbbbbbb'
const body = chat('Explain resumable streams', { seed: 7 })

const put = (proxy: TestProxy, client: string, conditions: unknown) =>
  directFetch(`${proxy.url}/demo/clients/${client}/network`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(conditions),
  })
const drop = (proxy: TestProxy, client: string) =>
  directFetch(`${proxy.url}/demo/clients/${client}/drop`, { method: 'POST' })

/** Reads events until the body fails; resolves with them and the failure. */
async function readUntilCut(response: Response) {
  const events: SseEvent[] = []
  const reader = readSse(response)
  try {
    for await (const event of reader) events.push(event)
  } catch (error) {
    return { events, error }
  }
  return { events, error: undefined }
}

/** Resumes after `lastId` and reads to the end. */
async function resume(proxy: TestProxy, response: Response, lastId: string) {
  const location = response.headers.get('content-location') ?? ''
  const rest = await directFetch(new URL(location, proxy.url), {
    headers: { 'last-event-id': lastId },
  })
  return readSse(rest).rest()
}

describe('demo network controls', () => {
  let proxy: TestProxy
  let whole: string
  beforeAll(async () => {
    // 200 tokens/s: a stream lasts about a second, long enough to cut it in the middle.
    proxy = await startTestProxy(['--demo-controls', 'on', '--sim-rate', '200'])
    whole = textOf(await readSse(await postStream(proxy, body)).rest())
  })
  afterAll(() => proxy.shutdown())

  it('says what the app may offer', async () => {
    const info = await directFetch(`${proxy.url}/demo/info`)
    expect(await info.json()).toEqual({ upstream: 'simulated', controls: true })
  })

  it('drop destroys the client’s connection mid-stream; the generation goes on and a resume completes the text', async () => {
    const response = await postStream(proxy, body, { 'x-demo-client': TAB })
    const reader = readSse(response)
    const first = await reader.take(3)
    expect(await (await drop(proxy, TAB)).json()).toEqual({ dropped: 1 })
    await expect(reader.rest()).rejects.toThrow()
    const rest = await resume(proxy, response, lastIdOf(first))
    expect(textOf([...first, ...rest])).toBe(whole)
  })

  it('drop leaves other clients’ streams and requests without the header alone', async () => {
    const mine = readSse(await postStream(proxy, body, { 'x-demo-client': TAB }))
    const theirs = readSse(await postStream(proxy, body, { 'x-demo-client': OTHER_TAB }))
    const anonymous = readSse(await postStream(proxy, body))
    await mine.take(2)
    await theirs.take(2)
    expect(await (await drop(proxy, TAB)).json()).toEqual({ dropped: 1 })
    await expect(mine.rest()).rejects.toThrow()
    expect(textOf(await theirs.rest())).not.toBe('')
    expect(textOf(await anonymous.rest())).toBe(whole)
  })

  it('flaky drops the client’s connections again and again until it is turned off', async () => {
    expect((await put(proxy, TAB, { flakyEveryMs: 500 })).status).toBe(200)
    let cuts = 0
    let lastId = ''
    let events: SseEvent[] = []
    let response = await postStream(proxy, chat('A long answer, please', { seed: 1 }), {
      'x-demo-client': TAB,
    })
    const location = response.headers.get('content-location') ?? ''
    while (cuts < 2) {
      const read = await readUntilCut(response)
      events = [...events, ...read.events]
      lastId = lastIdOf(events) || lastId
      if (read.error === undefined) break
      cuts += 1
      response = await directFetch(new URL(location, proxy.url), {
        headers: { 'last-event-id': lastId, 'x-demo-client': TAB },
      })
    }
    expect(cuts).toBe(2)
    await put(proxy, TAB, {})
    events = [...events, ...(await readSse(response).rest())]
    const expected = textOf(
      await readSse(await postStream(proxy, chat('A long answer, please', { seed: 1 }))).rest(),
    )
    expect(textOf(events)).toBe(expected)
  })

  it('slow trickles the client’s stream in small slices, and the text is exact once steady again', async () => {
    await put(proxy, TAB, { bytesPerSecond: 200 })
    const response = await postStream(proxy, body, { 'x-demo-client': TAB })
    const reader = (response.body as ReadableStream<Uint8Array>).getReader()
    const slow: Uint8Array[] = []
    while (slow.length < 10) slow.push(((await reader.read()) as { value: Uint8Array }).value)
    // A tenth of a second's worth each (20 bytes), where a steady network carries whole events.
    expect(Math.max(...slow.map((chunk) => chunk.byteLength))).toBeLessThanOrEqual(20)
    await put(proxy, TAB, {})
    const rest: Uint8Array[] = []
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read())
      rest.push(chunk.value)
    expect(Math.max(...rest.map((chunk) => chunk.byteLength))).toBeGreaterThan(20)
    const decoder = new TextDecoder()
    const text = [...slow, ...rest].map((chunk) => decoder.decode(chunk, { stream: true })).join('')
    expect(textOf(parseSse(text))).toBe(whole)
  })

  it('refuses a bad client id and bad conditions with invalid-request', async () => {
    const badClient = await put(proxy, 'x', {})
    expect(badClient.status).toBe(400)
    expect((await badClient.json()).code).toBe('invalid-request')
    const tooFlaky = await put(proxy, TAB, { flakyEveryMs: 1 })
    expect(tooFlaky.status).toBe(400)
    expect((await tooFlaky.json()).message).toMatch(/^flakyEveryMs: /)
    const unknown = await put(proxy, TAB, { lossy: true })
    expect(unknown.status).toBe(400)
  })
})

describe('without --demo-controls', () => {
  let proxy: TestProxy
  beforeAll(async () => {
    proxy = await startTestProxy()
  })
  afterAll(() => proxy.shutdown())

  it('has no demo routes', async () => {
    expect((await directFetch(`${proxy.url}/demo/info`)).status).toBe(404)
    expect((await drop(proxy, TAB)).status).toBe(404)
  })
})

describe('--static-dir', () => {
  let proxy: TestProxy
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'demo-dist-'))
    mkdirSync(join(dir, 'assets'))
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>demo</title>')
    writeFileSync(join(dir, 'assets', 'app-1a2b.js'), 'export {}')
    proxy = await startTestProxy(['--static-dir', dir])
  })
  afterAll(() => proxy.shutdown())

  it('serves index.html at / for revalidation, hashed assets as immutable', async () => {
    const index = await directFetch(`${proxy.url}/`)
    expect(index.headers.get('content-type')).toMatch(/^text\/html/)
    expect(index.headers.get('cache-control')).toBe('no-cache')
    expect(await index.text()).toContain('<title>demo</title>')
    const asset = await directFetch(`${proxy.url}/assets/app-1a2b.js`)
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable')
  })

  it('leaves the API to the proxy', async () => {
    expect(await (await directFetch(`${proxy.url}/healthz`)).json()).toEqual({ status: 'ok' })
    expect(
      textOf(await readSse(await postStream(proxy, chat('Hi', { maxTokens: 3 }))).rest()),
    ).not.toBe('')
    const missing = await directFetch(`${proxy.url}/nothing-here`)
    expect(missing.status).toBe(404)
    expect((await missing.json()).code).toBe('not-found')
  })

  it('refuses a directory without index.html at start', async () => {
    await expect(startTestProxy(['--static-dir', tmpdir()])).rejects.toThrow(
      /--static-dir: expected a directory with an index\.html/,
    )
  })
})
