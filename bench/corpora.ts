// Seeded SSE corpora for the parser benchmark, generated in memory so every run and every
// contender sees the same bytes, cut into the same network-sized chunks.

import { createRandom } from '@unbroken/test-kit'
import { chunkFrame } from './payload'

export type Corpus = {
  name: string
  /** The body, cut into chunks the way a socket delivers it. */
  chunks: Uint8Array[]
  bytes: number
  events: number
  /** Event types the corpus uses, for listeners that subscribe per type (EventSource). */
  types: string[]
}

/** Cuts `body` into slices of 1–16 KB, the sizes a TCP socket hands to `fetch` readers. */
const slice = (body: Uint8Array, next: () => number): Uint8Array[] => {
  const chunks: Uint8Array[] = []
  for (let i = 0; i < body.length; ) {
    const size = 1024 + Math.floor(next() * 15 * 1024)
    chunks.push(body.slice(i, i + size))
    i += size
  }
  return chunks
}

const build = (
  name: string,
  seed: number,
  count: number,
  types: string[],
  event: (next: () => number, i: number) => string,
): Corpus => {
  const next = createRandom(seed)
  const parts: string[] = []
  for (let i = 0; i < count; i++) parts.push(event(next, i))
  const body = new TextEncoder().encode(parts.join(''))
  return { name, chunks: slice(body, next), bytes: body.length, events: count, types }
}

/** The payload module's chat-completion chunks with ids, as our server frames them. */
export const llmTokens = (count = 100_000) =>
  build('LLM tokens', 1, count, ['message'], (_next, i) => chunkFrame(i))

/** Large events: 32 KB of JSON-ish payload each, so every event spans several chunks. */
export const largeEvents = (count = 400) =>
  build('32 KB events', 2, count, ['snapshot'], (next, i) => {
    const filler = 'lorem ipsum dolor sit amet ü '
      .repeat(Math.ceil((32 * 1024) / 30))
      .slice(0, 32 * 1024 - 40)
    return `id: ${i}\nevent: snapshot\ndata: {"n":${Math.floor(next() * 1e6)},"text":"${filler}"}\n\n`
  })

/** Multi-line events: 20 `data:` lines each, as pretty-printed JSON or log lines arrive. */
export const multiLineEvents = (count = 10_000) =>
  build('20-line events', 3, count, ['message'], (next, i) => {
    const lines: string[] = []
    for (let l = 0; l < 20; l++)
      lines.push(`data: line ${l} of event ${i}: ${next().toString(36).slice(2)}`)
    return `id: ${i}\n${lines.join('\n')}\n\n`
  })
