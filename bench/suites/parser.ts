// The SSE parser side by side with peer parsers on three seeded corpora, reported as ratios
// against eventsource-parser's sync `createParser` fed by a streaming TextDecoder (the way its
// users must feed it bytes), and against the limit: decoding the bytes and counting blank lines.

import { getLines, getMessages } from '@microsoft/fetch-event-source/lib/esm/parse.js'
import { createEventStreamParser, createEventStreamParserStream } from '@unbroken/client/parser'
import { EventSource } from 'eventsource'
import { createParser } from 'eventsource-parser'
import { EventSourceParserStream } from 'eventsource-parser/stream'
import { events as fetchEventStream } from 'fetch-event-stream'
import { type Corpus, largeEvents, llmTokens, multiLineEvents } from '../corpora'
import { fmt, interleave, ratio, show, stat, type Target, table, targets } from '../harness'

type Contender = { name: string; run: (corpus: Corpus) => number | Promise<number> }

const BASELINE = 'eventsource-parser sync'
// Parsing is CPU-bound and single-process, so it is timed in CPU seconds (all threads, GC's
// included): a neighbour that takes the core for a while then costs a contender nothing.
const cpuSeconds = () => {
  const { user, system } = process.cpuUsage()
  return (user + system) / 1e6
}
const LIMIT = 'limit: decode + count blank lines'

const readable = (chunks: Uint8Array[]) => {
  let i = 0
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      const chunk = chunks[i++]
      if (chunk) controller.enqueue(chunk)
      else controller.close()
    },
  })
}

const drain = async <T>(stream: ReadableStream<T>, onValue?: (value: T) => void) => {
  let count = 0
  const reader = stream.getReader()
  for (let r = await reader.read(); !r.done; r = await reader.read()) {
    count++
    onValue?.(r.value)
  }
  return count
}

const contenders: Contender[] = [
  {
    name: 'unbroken sync',
    run: ({ chunks }) => {
      let count = 0
      const parser = createEventStreamParser({ onEvent: () => count++ })
      for (const chunk of chunks) parser.write(chunk)
      parser.end()
      return count
    },
  },
  {
    name: 'unbroken from ReadableStream',
    run: async ({ chunks }) => {
      let count = 0
      const parser = createEventStreamParser({ onEvent: () => count++ })
      const reader = readable(chunks).getReader()
      for (let r = await reader.read(); !r.done; r = await reader.read()) parser.write(r.value)
      parser.end()
      return count
    },
  },
  {
    name: 'unbroken TransformStream',
    run: ({ chunks }) => drain(readable(chunks).pipeThrough(createEventStreamParserStream())),
  },
  {
    name: BASELINE,
    run: ({ chunks }) => {
      let count = 0
      const decoder = new TextDecoder()
      const parser = createParser({ onEvent: () => count++ })
      for (const chunk of chunks) parser.feed(decoder.decode(chunk, { stream: true }))
      return count
    },
  },
  {
    name: 'eventsource-parser stream',
    run: ({ chunks }) =>
      drain(
        readable(chunks)
          // TS's DOM lib types the decoder's writable side as BufferSource only.
          .pipeThrough(new TextDecoderStream() as TransformStream<Uint8Array, string>)
          .pipeThrough(new EventSourceParserStream()),
      ),
  },
  {
    name: 'fetch-event-source parse',
    run: ({ chunks }) => {
      let count = 0
      const onChunk = getLines(
        getMessages(
          () => {},
          () => {},
          () => count++,
        ),
      )
      for (const chunk of chunks) onChunk(chunk)
      return count
    },
  },
  {
    name: 'fetch-event-stream events()',
    run: async ({ chunks }) => {
      let count = 0
      for await (const _ of fetchEventStream(new Response(readable(chunks)))) count++
      return count
    },
  },
  {
    // eventsource has no standalone parse entry (it wraps eventsource-parser 3.x), so it runs
    // whole: the EventSource class over an in-memory Response given through its `fetch` option.
    name: 'eventsource EventSource (end to end)',
    run: ({ chunks, types }) =>
      new Promise<number>((resolve) => {
        let count = 0
        const source = new EventSource('http://bench.invalid/', {
          fetch: async () =>
            new Response(readable(chunks), { headers: { 'content-type': 'text/event-stream' } }),
        })
        for (const type of types) source.addEventListener(type, () => count++)
        // The body's end makes EventSource schedule a reconnect: stop it there.
        source.onerror = () => {
          source.close()
          resolve(count)
        }
      }),
  },
  {
    // The physical limit for any parser: decode the bytes and find the blank lines, no fields.
    name: LIMIT,
    run: ({ chunks }) => {
      let count = 0
      let previous = ''
      const decoder = new TextDecoder()
      for (const chunk of chunks) {
        const text = decoder.decode(chunk, { stream: true })
        if (previous === '\n' && text.charCodeAt(0) === 10) count++
        for (let i = text.indexOf('\n\n'); i !== -1; i = text.indexOf('\n\n', i + 2)) count++
        previous = text.slice(-1)
      }
      return count
    },
  },
]

export default async function parserSuite(): Promise<Target[]> {
  const corpora = [llmTokens(), largeEvents(), multiLineEvents()]
  const goals: Target[] = []
  for (const corpus of corpora) {
    const mb = corpus.bytes / 1e6
    console.log(
      `\n## ${corpus.name}: ${mb.toFixed(1)} MB, ${fmt(corpus.events)} events, ${corpus.chunks.length} chunks of 1–16 KB`,
    )
    const rates = await interleave({
      contenders: contenders.map((c) => c.name),
      label: corpus.name,
      // Stream-fed contenders are still being optimised in their second pass.
      warmup: 2,
      measure: async (name) => {
        const contender = contenders.find((c) => c.name === name) as Contender
        const start = cpuSeconds()
        const count = await contender.run(corpus)
        const seconds = cpuSeconds() - start
        if (count !== corpus.events) {
          throw new Error(
            `${name} produced ${count} events on "${corpus.name}", expected ${corpus.events}`,
          )
        }
        return corpus.events / seconds
      },
    })
    const of = (name: string) => rates.get(name) ?? []
    table(
      contenders.map(({ name }) => {
        return {
          contender: name,
          'MB/CPU-s': fmt((stat(of(name)).median * corpus.bytes) / corpus.events / 1e6),
          'events/CPU-s': fmt(stat(of(name)).median),
          [`vs ${BASELINE}`]: show(ratio(of(name), of(BASELINE))),
          'vs limit': show(ratio(of(name), of(LIMIT))),
        }
      }),
    )
    const sync = 'unbroken sync'
    const fromStream = 'unbroken from ReadableStream'
    if (corpus === corpora[0]) {
      goals.push(
        {
          name: `sync ≥ 1.15× ${BASELINE}, ${corpus.name}`,
          value: ratio(of(sync), of(BASELINE)),
          atLeast: 1.15,
          limit: ratio(of(sync), of(LIMIT)),
        },
        {
          name: `sync ≥ 0.6× the limit, ${corpus.name}`,
          value: ratio(of(sync), of(LIMIT)),
          atLeast: 0.6,
        },
        {
          name: `from a ReadableStream ≥ 1.0× ${BASELINE}, ${corpus.name}`,
          value: ratio(of(fromStream), of(BASELINE)),
          atLeast: 1,
          limit: ratio(of(fromStream), of(LIMIT)),
        },
      )
    } else {
      goals.push({
        name: `sync ≥ 1.0× ${BASELINE}, ${corpus.name}`,
        value: ratio(of(sync), of(BASELINE)),
        atLeast: 1,
        limit: ratio(of(sync), of(LIMIT)),
      })
    }
  }
  targets(goals)
  return goals
}
