import type { ServerResponse } from 'node:http'
import { createRandom } from '@unbroken/test-kit'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { formatEvent, openStream, startServer, type TestServer } from '../test/server'
import { createEventStream } from './stream'

const RUNS = 200
const MAX_CUTS = 5

const ALPHABET = ['a', 'b', ' ', 'é', 'ß', '日', '本', '😀', '🧪', '\n', ':', 'data: x']
type Source = { id: string; data: string }

const sourceFor = (seed: number): Source[] => {
  const random = createRandom(seed)
  return Array.from({ length: 1 + Math.floor(random() * 20) }, (_, i) => ({
    id: `${seed}-${i}-日`,
    data: Array.from(
      { length: Math.floor(random() * 12) },
      () => ALPHABET[Math.floor(random() * ALPHABET.length)],
    ).join(''),
  }))
}

// Per run: the server replays after Last-Event-ID, and on up to MAX_CUTS connections destroys the
// socket at a random byte offset of the body (or before the headers).
const runs = new Map<number, { random: () => number; cuts: number }>()
const handle = (path: string, lastEventId: string | undefined, res: ServerResponse) => {
  const seed = Number(path.split('/')[2])
  const source = sourceFor(seed)
  const run = runs.get(seed) ?? { random: createRandom(seed ^ 0x5eed), cuts: 0 }
  runs.set(seed, run)
  const { random } = run
  const cut = run.cuts < MAX_CUTS && random() < 0.6
  if (cut) run.cuts++
  if (cut && random() < 0.1) return res.destroy()
  const start =
    lastEventId === undefined ? 0 : source.findIndex((event) => event.id === lastEventId) + 1
  const body = Buffer.from(
    `retry: 0\n: open\n\n${source
      .slice(start)
      .map((event) => formatEvent(event))
      .join('')}${formatEvent({ id: `${seed}-end`, event: 'done', data: '' })}`,
  )
  const end = cut ? Math.floor(random() * body.length) : body.length
  const split = Math.floor(random() * end)
  openStream(res)
  res.write(body.subarray(0, split))
  if (cut) res.write(body.subarray(split, end), () => res.destroy())
  else res.end(body.subarray(split))
}

let server: TestServer
beforeAll(async () => {
  server = await startServer((request, res) => handle(request.path, request.lastEventId, res))
})
afterAll(() => server.close())

const deliver = async (seed: number) => {
  const got: Source[] = []
  const stream = createEventStream(`${server.origin}/run/${seed}`, { backoff: { initialMs: 0 } })
  for await (const event of stream)
    if (event.type !== 'done') got.push({ id: event.lastEventId, data: event.data })
  return { got, snapshot: stream.getSnapshot() }
}

it(`delivers exactly the source, no duplicate and no gap, over ${RUNS} seeded cut-at-random-byte runs`, async () => {
  const seeds = Array.from({ length: RUNS }, (_, i) => i + 1)
  let cuts = 0
  // Eight runs at a time keeps the loopback busy without starving the other engineers' tests.
  for (let i = 0; i < seeds.length; i += 8) {
    await Promise.all(
      seeds.slice(i, i + 8).map(async (seed) => {
        const { got, snapshot } = await deliver(seed)
        expect(got, `seed ${seed}: replay with sourceFor(${seed})`).toEqual(sourceFor(seed))
        expect(snapshot.closeReason, `seed ${seed}`).toBe('done')
        cuts += snapshot.reconnects
      }),
    )
  }
  // The runs must actually have exercised resumption.
  expect(cuts).toBeGreaterThan(RUNS)
})
