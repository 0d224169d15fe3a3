import { createEventStream, type ReconnectInfo } from '@unbroken/client'
import type { Producer } from '@unbroken/server'
import { waitFor } from '@unbroken/test-kit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { assertSameEvents } from '../support/compare'
import { collect } from '../support/read'
import { type RegistryServer, startRegistryServer } from './registry-server'
import { produce, readLog, sourceEvents } from './source'

const SOURCE = sourceEvents(50)
const streamIdOf = (url: string) => new URL(url).pathname.split('/').pop() ?? ''

describe('a server at its stream limit', () => {
  let server: RegistryServer
  let producers = 0
  let release: () => void
  const released = new Promise<void>((resolve) => {
    release = resolve
  })

  beforeAll(async () => {
    // The first generation holds the only slot until the test releases it.
    const generation: Producer = async (stream) => {
      if (++producers > 1) return produce(SOURCE)(stream, undefined)
      await produce(SOURCE.slice(0, 10))(stream, undefined)
      await released
      await produce(SOURCE.slice(10))(stream, undefined)
    }
    server = await startRegistryServer({
      maxConcurrentStreams: 1,
      retryAfterMs: 1_000,
      producer: () => generation,
    })
  })
  afterAll(() => server?.close())

  it('answers 429 with Retry-After, which the client honours before re-sending its POST', async () => {
    const holder = createEventStream(server.streamsUrl, { method: 'POST' })
    const holding = collect(holder)
    await waitFor(() => holder.getSnapshot().events > 0)
    const refusals: ReconnectInfo[] = []
    const waiting = createEventStream(server.streamsUrl, {
      method: 'POST',
      onReconnect: (info) => {
        refusals.push(info)
        release()
      },
    })
    const [first, second] = await Promise.all([holding, collect(waiting)])
    expect(refusals.map((r) => r.error.status)).toEqual([429])
    expect(refusals[0]?.delayMs).toBeGreaterThanOrEqual(1_000)
    expect(producers).toBe(2)
    for (const [name, stream, result] of [
      ['holder', holder, first],
      ['waiting', waiting, second],
    ] as const) {
      expect(result.snapshot.closeReason).toBe('done')
      assertSameEvents(
        { scenario: `stream limit, ${name}` },
        await readLog(server.log, streamIdOf(stream.url)),
        result.events,
      )
    }
  })
})
