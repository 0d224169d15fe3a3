/**
 * Test helpers for the resumable-stream tests: a registry served on loopback and a producer the
 * test drives token by token. Not published (`files` excludes `src/**\/test-*`).
 */
import { listen } from '@unbroken/test-kit'
import { afterEach } from 'vitest'
import { createEventHub } from './hub'
import type { EventLog } from './log'
import { createMemoryEventLog } from './memory-log'
import { createResumableStreams } from './resumable'
import type { Producer, ProducerStream } from './resumable-producer'
import type { ResumableStreamsOptions } from './resumable-types'

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
  const server = await listen((req, res) => {
    void streams.handle(req, res, producer)
  })
  onCleanup(async () => {
    await server.close()
    await streams.close()
    await hub.closeAll({ deadlineMs: 100 })
    await log.close()
  })
  return { streams, server, log, hub, url: (path: string) => `${server.origin}${path}` }
}
