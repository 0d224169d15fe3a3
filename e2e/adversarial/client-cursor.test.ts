// Agreements A1 and A3 between the real registry and the client: a first connection that
// delivered nothing still leaves a cursor to resume from, and the resume counts what it replayed.
import { createEventStream } from '@unbroken/client'
import type { Producer } from '@unbroken/server'
import { afterEach, describe, expect, it } from 'vitest'
import { type RegistryServer, startRegistryServer } from '../faults/registry-server'
import { produce, readLog, sourceEvents } from '../faults/source'
import { assertSameEvents } from '../support/compare'
import { collect } from '../support/read'

const SOURCE = sourceEvents(50)

let server: RegistryServer | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

/** Passes a body on until its first id-only block (the cursor) has gone by, then cuts it. */
const cutAfterCursor = (body: ReadableStream<Uint8Array>) => {
  const decoder = new TextDecoder()
  let text = ''
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        controller.enqueue(chunk)
        text += decoder.decode(chunk, { stream: true })
        if (/(^|\n)id:[^\n]*\n\n/.test(text))
          controller.error(new TypeError('cut after the cursor'))
      },
    }),
  )
}

describe('a POST whose first connection delivered no event', () => {
  it('resumes from the cursor block, and counts the events the resume replayed', async () => {
    let release = () => {}
    const released = new Promise<void>((resolve) => {
      release = resolve
    })
    let produced: Promise<void> | undefined
    const generation: Producer = (stream, request) => {
      produced = released.then(() => produce(SOURCE)(stream, request))
      return produced
    }
    server = await startRegistryServer({ producer: () => generation })
    const cursors: Array<string | null> = []
    let firstCursor = ''
    const fetcher: typeof fetch = async (input, init) => {
      cursors.push(new Headers(init?.headers).get('last-event-id'))
      if (cursors.length > 1) {
        // The resume goes out only once the whole answer is in the log: all of it is replay.
        firstCursor = stream.getSnapshot().lastEventId
        release()
        await produced
        return fetch(input, init)
      }
      const response = await fetch(input, init)
      if (!response.body) return response
      return new Response(cutAfterCursor(response.body), response)
    }
    const stream = createEventStream(server.streamsUrl, {
      method: 'POST',
      fetch: fetcher,
      backoff: { initialMs: 0 },
    })
    const { events, snapshot } = await collect(stream)
    expect(firstCursor).not.toBe('')
    expect(cursors).toEqual([null, firstCursor])
    expect(snapshot).toMatchObject({ closeReason: 'done', reconnects: 1 })
    const log = await readLog(server.log, new URL(snapshot.url).pathname.split('/').pop() ?? '')
    assertSameEvents({ scenario: 'resume from the cursor block' }, log, events)
    expect(snapshot.replayed).toBe(events.length)
  })
})
