// A `for await` loop slower than the network (issue 9 #9): the reader stops reading the socket
// instead of queueing the stream in memory, so TCP pushes back on the server, and the idle
// watchdog does not take the wait for the loop as a dead connection.
import { once } from 'node:events'
import type { ServerResponse } from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'
import { waitFor } from '@unbroken/test-kit'
import { describe, expect, it } from 'vitest'
import { doneEvent, formatEvent, openStream, useServer } from '../test/server'
import { createEventStream } from './stream'

const loopback = useServer()

const EVENT_DATA = 'x'.repeat(16 * 1024)

/** What the server saw of its own writes. */
interface Progress {
  written: number
  finished: boolean
  /** Waiting for 'drain' since this time, or undefined. */
  blockedSince: number | undefined
}

/** Streams `count` 16 KiB events then `done`, honouring backpressure, and tracks its progress. */
const serveEvents = (count: number, progress: Progress) => async (res: ServerResponse) => {
  openStream(res)
  for (let id = 1; id <= count && !res.destroyed; id++) {
    const block = formatEvent({ id: `${id}`, data: EVENT_DATA })
    if (
      !res.write(block, () => {
        progress.written += block.length
      })
    ) {
      progress.blockedSince = Date.now()
      await Promise.race([once(res, 'drain'), once(res, 'close')])
      progress.blockedSince = undefined
    }
  }
  res.end(doneEvent)
  progress.finished = true
}

/** Waits until the server finished, or has been blocked on its socket for half a second. */
const untilServerSettles = (progress: Progress) =>
  waitFor(
    () =>
      progress.finished ||
      (progress.blockedSince !== undefined && Date.now() - progress.blockedSince > 500),
    { timeoutMs: 15_000, what: 'the server to finish or block' },
  )

describe('a slow for-await loop', () => {
  it('pushes back on the server instead of buffering the stream in memory', async () => {
    const count = 2048 // 32 MiB
    const progress: Progress = { written: 0, finished: false, blockedSince: undefined }
    const server = await loopback.start((_, res) => serveEvents(count, progress)(res))
    const stream = createEventStream(`${server.origin}/s`)
    const iterator = stream[Symbol.asyncIterator]()
    expect((await iterator.next()).value?.lastEventId).toBe('1')
    const heapBefore = process.memoryUsage().heapUsed
    await untilServerSettles(progress)
    const heapGrowth = process.memoryUsage().heapUsed - heapBefore
    // The loop took one event; the server must be stuck well short of the whole stream.
    expect(progress.finished).toBe(false)
    expect(progress.written).toBeLessThan((count * EVENT_DATA.length) / 2)
    expect(heapGrowth).toBeLessThan(64 * 1024 * 1024)
    let next = 2
    for (;;) {
      const { value, done } = await iterator.next()
      if (done) break
      if (value.type === 'done') continue
      expect(value.lastEventId).toBe(`${next++}`)
    }
    expect(next).toBe(count + 1)
    expect(stream.getSnapshot()).toMatchObject({ closeReason: 'done', reconnects: 0 })
  })

  it('is not taken for a dead connection by the idle watchdog', async () => {
    const progress: Progress = { written: 0, finished: false, blockedSince: undefined }
    const server = await loopback.start((_, res) => serveEvents(1024, progress)(res))
    const reasons: string[] = []
    const stream = createEventStream(`${server.origin}/s`, {
      idleTimeoutMs: 1000,
      onReconnect: ({ error }) => reasons.push(error.code),
    })
    let events = 0
    for await (const _ of stream) {
      // Three times the idle timeout on the first event, while the reader waits for the loop.
      if (events++ === 0) await sleep(3000)
    }
    expect(reasons).toEqual([])
    expect(events).toBe(1025)
  })
})
