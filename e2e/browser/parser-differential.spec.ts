// Differential test: Chromium's native EventSource and our parser (running in the same page over
// fetch) read the same raw bytes from a loopback server, and must dispatch identical events. The
// conformance table is served too, so the table itself is checked against a real browser.
import { fileURLToPath } from 'node:url'
import { expect, test } from '@playwright/test'
import { type Listening, listen } from '@unbroken/test-kit'
import { bytes, type ExpectedEvent, parserCases } from '@unbroken/test-kit/parser-cases'
import { build } from 'esbuild'

type Fixture = {
  name: string
  /** Each chunk is a separate TCP write, with a pause between, so the bytes arrive split. */
  chunks: Uint8Array[]
  /** What the conformance table expects, when the fixture comes from it. */
  expected?: ExpectedEvent[]
}

const encode = (text: string) => new TextEncoder().encode(text)
const split = (name: string, ...parts: Array<string | number[]>): Fixture => ({
  name,
  chunks: parts.map((part) => bytes(part)),
})

const splitFixtures: Fixture[] = [
  split('BOM split across writes', [0xef], [0xbb], [0xbf], 'data: a\n\n'),
  split(
    'second BOM split across writes',
    [0xef, 0xbb, 0xbf, 0xef],
    [0xbb, 0xbf],
    'data: 1\n\ndata: 2\n\n',
  ),
  split('CRLF split across writes', 'data: a\r', '\ndata: b\r', '\n\r', '\n'),
  split('bare CR at the end of writes', 'data: a\r', '\rdata: b\r', '\r'),
  split('CR CR then LF in the next write', 'data: a\r\r', '\n', 'data: b\n', '\r\n'),
  split(
    'multi-byte characters split across writes',
    'data: ',
    [0xc3],
    [0xa9, 0xf0, 0x9f],
    [0xa6, 0x84, 0xe4],
    [0xbd, 0xa0],
    '\n\n',
  ),
  split('truncated sequence before the next write', 'data: a', [0xf0, 0x9f], 'x\n\n', [0xe2]),
  split('id-only blocks and a NUL id across writes', 'id: 1\n', '\n', 'id: 2\0\n\ndata: x\n\n'),
  split('retry split and an unterminated end', 'retry: 10', '00\ndata: a\n\n', 'id: 9\ndata: tail'),
  split(
    'typed events split mid-field',
    'event: add\ndata: 1\n\n',
    'event: remove\nda',
    'ta: 2\n\n',
  ),
  split('id persists across writes', 'id: 7\ndata: a\n\n', 'data: b\n', '\n', 'id\ndata: c\n\n'),
  {
    name: '100 KB event in 20 writes',
    chunks: Array.from({ length: 20 }, (_, i) =>
      encode(`${i === 0 ? 'data: ' : ''}${'z'.repeat(5000)}${i === 19 ? '\n\n' : ''}`),
    ),
  },
  {
    name: 'LLM tokens cut at odd offsets',
    chunks: (() => {
      const body = encode(
        Array.from(
          { length: 40 },
          (_, i) => `id: ${i}\ndata: {"delta":"${i % 4 === 0 ? 'é你🦄' : ' tok'}"}\n\n`,
        ).join(''),
      )
      const chunks: Uint8Array[] = []
      for (let i = 0; i < body.length; i += 37) chunks.push(body.slice(i, i + 37))
      return chunks
    })(),
  },
]

// The native EventSource cannot start from a given last event ID, so those rows stay unit-only.
const tableFixtures: Fixture[] = parserCases
  .filter((c) => c.initialLastEventId === undefined)
  .map((c) => ({
    name: `table: ${c.name}`,
    chunks: [typeof c.input === 'string' ? encode(c.input) : c.input],
    expected: c.events,
  }))

const fixtures = [...splitFixtures, ...tableFixtures]

// Every type a fixture could dispatch, so the native side can listen for each one by name.
const typesOf = (fixture: Fixture) => {
  const text = new TextDecoder().decode(bytes(...fixture.chunks.map((c) => [...c])))
  const types = new Set(['message'])
  for (const match of text.matchAll(/(?:^|[\r\n])\uFEFF?event(?::( ?)([^\r\n]*))?/g)) {
    if (match[2]) types.add(match[2])
  }
  return [...types]
}

let server: Listening

test.beforeAll(async () => {
  const bundle = await build({
    entryPoints: [fileURLToPath(new URL('../../packages/client/src/parser.ts', import.meta.url))],
    bundle: true,
    format: 'iife',
    globalName: 'UnbrokenParser',
    target: 'es2022',
    write: false,
  })
  const script = bundle.outputFiles[0]?.text ?? ''
  server = await listen((req, res) => {
    if (req.url === '/') {
      res.writeHead(200, { 'content-type': 'text/html' })
      res.end('<!doctype html><script src="/parser.js"></script>')
      return
    }
    if (req.url === '/parser.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' })
      res.end(script)
      return
    }
    const fixture = fixtures[Number(req.url?.split('/')[2])]
    if (!fixture) {
      res.writeHead(404).end()
      return
    }
    res.socket?.setNoDelay(true)
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' })
    let i = 0
    // The pause lets each write leave as its own TCP segment, so the reader sees the split.
    const next = () => {
      const chunk = fixture.chunks[i++]
      if (chunk) res.write(chunk, () => setTimeout(next, 15))
      else res.end()
    }
    next()
  })
})

test.afterAll(async () => {
  await server.close()
})

test('native EventSource and our parser dispatch the same events for every fixture', async ({
  page,
}) => {
  await page.goto(`${server.origin}/`)
  const jobs = fixtures.map((fixture, index) => ({ index, types: typesOf(fixture) }))
  const results = await page.evaluate(async (list) => {
    type Recorded = { type: string; data: string; lastEventId: string }
    const parserApi = (
      window as unknown as { UnbrokenParser: typeof import('../../packages/client/src/parser') }
    ).UnbrokenParser
    const native = (url: string, types: string[]) =>
      new Promise<Recorded[]>((resolve) => {
        const seen: Recorded[] = []
        const source = new EventSource(url)
        const record = (event: Event) => {
          const { type, data, lastEventId } = event as MessageEvent<string>
          seen.push({ type, data, lastEventId })
        }
        for (const type of types) source.addEventListener(type, record)
        // The server closes after the last byte; the error that follows marks the end, and
        // closing here stops the reconnect.
        source.onerror = () => {
          source.close()
          resolve(seen)
        }
      })
    const ours = async (url: string) => {
      const seen: Recorded[] = []
      const parser = parserApi.createEventStreamParser({ onEvent: (event) => seen.push(event) })
      const reader = (await fetch(url)).body?.getReader()
      for (let r = await reader?.read(); r && !r.done; r = await reader?.read())
        parser.write(r.value)
      parser.end()
      return seen
    }
    const out: Array<{ native: Recorded[]; ours: Recorded[] }> = []
    for (const { index, types } of list) {
      const url = `/fixture/${index}`
      out.push({ native: await native(url, types), ours: await ours(url) })
    }
    return out
  }, jobs)

  expect(results.length).toBe(fixtures.length)
  // Guards against a harness that records nothing on either side.
  expect(results.reduce((n, r) => n + r.native.length, 0)).toBeGreaterThan(200)
  results.forEach((result, i) => {
    const fixture = fixtures[i] as Fixture
    expect(result.ours, fixture.name).toEqual(result.native)
    if (fixture.expected) expect(result.native, `${fixture.name} (table)`).toEqual(fixture.expected)
  })
})
