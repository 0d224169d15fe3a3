/**
 * Test helpers for the resumable-stream tests: a loopback server, a minimal SSE reader (split on
 * blank lines; the server and client packages never import each other) and a producer the test
 * drives token by token. Not published (`files` excludes `src/**\/test-*`).
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach } from 'vitest'
import { createEventHub } from './hub'
import type { EventLog } from './log'
import { createMemoryEventLog } from './memory-log'
import { createResumableStreams } from './resumable'
import type { Producer, ProducerStream } from './resumable-producer'
import type { ResumableStreams, ResumableStreamsOptions } from './resumable-types'
import type { NodeRequest } from './types'

export interface Sse {
  readonly id?: string
  readonly event?: string
  readonly data: string
}

export interface Loopback {
  readonly origin: string
  close(): Promise<void>
}

/** Serves `streams.handle` on 127.0.0.1 with an ephemeral port; `producer` answers every POST. */
export async function listen(
  streams: ResumableStreams,
  producer?: Producer<NodeRequest>,
): Promise<Loopback> {
  const server: Server = createServer((req, res) => {
    void streams.handle(req, res, producer)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    origin: `http://127.0.0.1:${port}`,
    async close() {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}

/** Reads SSE blocks from a response body, one dispatched event (a block with data) at a time. */
export function readSse(response: Response) {
  const body = response.body
  if (!body) throw new Error('no body')
  const reader = body.pipeThrough(new TextDecoderStream()).getReader()
  let buffer = ''
  const parse = (block: string): Sse | undefined => {
    let id: string | undefined
    let event: string | undefined
    const data: string[] = []
    for (const line of block.split('\n')) {
      if (line === '' || line.startsWith(':')) continue
      const colon = line.indexOf(':')
      const field = colon < 0 ? line : line.slice(0, colon)
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '')
      if (field === 'id') id = value
      else if (field === 'event') event = value
      else if (field === 'data') data.push(value)
    }
    if (data.length === 0) return undefined
    return {
      ...(id === undefined ? {} : { id }),
      ...(event === undefined ? {} : { event }),
      data: data.join('\n'),
    }
  }
  const next = async (): Promise<Sse | undefined> => {
    while (true) {
      const end = buffer.indexOf('\n\n')
      if (end >= 0) {
        const block = buffer.slice(0, end)
        buffer = buffer.slice(end + 2)
        const parsed = parse(block)
        if (parsed) return parsed
        continue
      }
      const chunk = await reader.read()
      if (chunk.done) return undefined
      buffer += chunk.value
    }
  }
  return {
    next,
    /** Reads `n` events. */
    async take(n: number): Promise<Sse[]> {
      const out: Sse[] = []
      while (out.length < n) {
        const event = await next()
        if (!event) throw new Error(`stream ended after ${out.length} of ${n} events`)
        out.push(event)
      }
      return out
    },
    /** Reads until the server closes the body. */
    async rest(): Promise<Sse[]> {
      const out: Sse[] = []
      for (let event = await next(); event; event = await next()) out.push(event)
      return out
    },
    cancel: () => reader.cancel(),
  }
}

/** A producer the test feeds: each `push` becomes one `delta`; `finish` returns; `fail` throws. */
export function drivenProducer() {
  const queue: Array<{ token: string } | { end: true } | { error: unknown }> = []
  let wake: (() => void) | undefined
  const streams: ProducerStream[] = []
  let onStart: ((stream: ProducerStream) => void) | undefined
  const started = new Promise<ProducerStream>((resolve) => {
    onStart = resolve
  })
  const put = (item: (typeof queue)[number]) => {
    queue.push(item)
    wake?.()
  }
  const producer: Producer<unknown> = async (stream) => {
    streams.push(stream)
    onStart?.(stream)
    while (true) {
      const item = queue.shift()
      if (!item) {
        await new Promise<void>((resolve) => {
          wake = resolve
        })
        continue
      }
      if ('end' in item) return
      if ('error' in item) throw item.error
      await stream.send({ event: 'delta', data: item.token })
    }
  }
  return {
    producer,
    started,
    streams,
    push: (...tokens: string[]) => {
      for (const token of tokens) put({ token })
    },
    finish: () => put({ end: true }),
    fail: (error: unknown) => put({ error }),
  }
}

const cleanups: Array<() => Promise<void>> = []

/** Registers a cleanup that runs after the current test, newest first. */
export function onCleanup(cleanup: () => Promise<void>): void {
  cleanups.push(cleanup)
}

/** Call at the top of a test file: runs the cleanups after each test. */
export function cleanUpAfterEach(): void {
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })
}

/** A registry served on loopback, with its log and hub (keepalive off), closed after the test. */
export async function setup(producer?: Producer<unknown>, options: ResumableStreamsOptions = {}) {
  const log: EventLog = options.log ?? createMemoryEventLog()
  const hub = options.hub ?? createEventHub({ keepAliveMs: 0 })
  const streams = createResumableStreams({ ...options, log, hub })
  const server = await listen(streams, producer)
  onCleanup(async () => {
    await server.close()
    await streams.close()
    await hub.closeAll({ deadlineMs: 100 })
    await log.close()
  })
  return { streams, server, log, hub, url: (path: string) => `${server.origin}${path}` }
}
