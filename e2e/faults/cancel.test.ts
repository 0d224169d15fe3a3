import { createEventStream } from '@unbroken/client'
import type { Producer } from '@unbroken/server'
import { waitFor } from '@unbroken/test-kit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { assertSameEvents } from '../support/compare'
import { collect } from '../support/read'
import { type RegistryServer, startRegistryServer } from './registry-server'
import { readLog } from './source'

describe('cancelling a stream through DELETE', () => {
  let server: RegistryServer
  let stopReason: unknown

  // An endless generation: only a cancel stops it. Sends racing the cancel are refused.
  const endless: Producer = async (stream) => {
    for (let i = 0; !stream.signal.aborted; i++) {
      await stream.send({ event: 'delta', data: `token ${i} ✓` }).catch(() => {})
      if (i % 10 === 9) await new Promise((tick) => setImmediate(tick))
    }
    stopReason = stream.signal.reason
  }

  beforeAll(async () => {
    server = await startRegistryServer({ producer: () => endless })
  })
  afterAll(() => server?.close())

  it('stops the producer and ends the stream with done, reason cancelled', async () => {
    let cancel: Promise<Response> | undefined
    const stream = createEventStream(server.streamsUrl, {
      method: 'POST',
      onEvent: (event) => {
        if (event.data === 'token 20 ✓') cancel = fetch(stream.url, { method: 'DELETE' })
      },
    })
    const { events, snapshot } = await collect(stream)
    expect((await cancel)?.status).toBe(204)
    await waitFor(() => stopReason !== undefined)
    expect(stopReason).toBe('cancelled')
    expect(snapshot.closeReason).toBe('done')
    expect(events.at(-1)).toMatchObject({ type: 'done', data: '{"reason":"cancelled"}' })
    const id = new URL(stream.url).pathname.split('/').pop() ?? ''
    assertSameEvents({ scenario: 'cancel through DELETE' }, await readLog(server.log, id), events)
  })
})
