import { waitFor } from '@unbroken/test-kit'
import { describe, expect, it } from 'vitest'
import type { EventLog } from './log'
import { createMemoryEventLog } from './memory-log'
import { cleanUpAfterEach, drivenProducer, setup } from './test-resumable'

cleanUpAfterEach()

/** Everything the log holds for the stream at `location`, once it ended. */
async function logged(log: EventLog, location: string) {
  const out = []
  for await (const event of log.read(location.split('/').pop() ?? '')) out.push(event)
  return out
}

describe('abandonAfterMs', () => {
  it('stops a stream nobody has read for that long, with a final producer-lost', async () => {
    const driven = drivenProducer()
    const { url, log } = await setup(driven.producer, { abandonAfterMs: 100 })
    const first = await fetch(url('/streams'), { method: 'POST' })
    const location = first.headers.get('content-location') ?? ''
    const stream = await driven.started
    await first.body?.cancel()
    await waitFor(() => stream.signal.aborted)
    expect(stream.signal.reason).toBe('abandoned')
    const last = (await logged(log, location)).at(-1)
    expect(JSON.parse(last?.data ?? '{}')).toMatchObject({
      code: 'producer-lost',
      retryable: false,
    })
  })

  it('keeps a stream that a resumed connection reads', async () => {
    const driven = drivenProducer()
    const { url } = await setup(driven.producer, { abandonAfterMs: 100 })
    const first = await fetch(url('/streams'), { method: 'POST' })
    const location = first.headers.get('content-location') ?? ''
    const stream = await driven.started
    await first.body?.cancel()
    const reader = await fetch(url(location))
    // Three abandon periods with a reader attached.
    for (let i = 0; i < 3; i++) {
      driven.push(`token ${i}`)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    expect(stream.signal.aborted).toBe(false)
    await reader.body?.cancel()
  })

  it('leaves a stream without readers running by default', async () => {
    const driven = drivenProducer()
    const { url } = await setup(driven.producer)
    const first = await fetch(url('/streams'), { method: 'POST' })
    const stream = await driven.started
    await first.body?.cancel()
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(stream.signal.aborted).toBe(false)
  })
})

describe('a POST whose client left before its response began', () => {
  it('never starts its producer, and gives its place back', async () => {
    const driven = drivenProducer()
    const inner = createMemoryEventLog()
    const completed: string[] = []
    const log: EventLog = {
      ...inner,
      complete: (id) => {
        completed.push(id)
        return inner.complete(id)
      },
    }
    let asked: () => void = () => {}
    const principalAsked = new Promise<void>((resolve) => {
      asked = resolve
    })
    let answer: () => void = () => {}
    const { url, server } = await setup(driven.producer, {
      log,
      maxConcurrentStreams: 1,
      // Holds the first request until its client has hung up.
      principal: () =>
        completed.length > 0
          ? undefined
          : new Promise((resolve) => {
              asked()
              answer = () => resolve(undefined)
            }),
    })
    const serverSideClosed = new Promise((resolve) =>
      server.server.once('connection', (socket) => socket.once('close', resolve)),
    )
    const client = new AbortController()
    const posted = fetch(url('/streams'), { method: 'POST', signal: client.signal }).catch(
      () => 'gone',
    )
    await principalAsked
    client.abort()
    expect(await posted).toBe('gone')
    await serverSideClosed
    answer()
    await waitFor(() => completed.length === 1)
    expect(driven.streams).toHaveLength(0)
    // Its place in maxConcurrentStreams (1) is free again.
    const next = await fetch(url('/streams'), { method: 'POST' })
    expect(next.status).toBe(200)
    await next.body?.cancel()
  })
})
