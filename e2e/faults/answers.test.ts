import { createEventStream } from '@unbroken/client'
import { createMemoryEventLog } from '@unbroken/server'
import { createFaultProxy, type FaultProxy, waitFor } from '@unbroken/test-kit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ComparableEvent } from '../support/compare'
import { collect } from '../support/read'
import { type RegistryServer, startRegistryServer } from './registry-server'
import { produce, readLog, sourceEvents } from './source'

// Protocol v1 §6, as our client sees our server's answers: each one ends the stream at once with
// the right error (no retry loop), or with the right events. The log keeps 100 events a stream.
describe('failure answers of the registry, read by our client', () => {
  let server: RegistryServer
  let proxy: FaultProxy
  let url: string
  let reference: ComparableEvent[]

  beforeAll(async () => {
    server = await startRegistryServer({
      log: createMemoryEventLog({ maxEvents: 100, ttlMs: 60_000 }),
      principal: (request) => request.header('x-user'),
      producer: () => produce(sourceEvents(300)),
    })
    const started = await server.registry.start(produce(sourceEvents(300)), { principal: 'alice' })
    reference = await readLog(server.log, started.id)
    url = `${server.origin}${started.url}`
    // The first connection to a POSTed stream stalls after its head and first events.
    proxy = await createFaultProxy({
      targetPort: server.port,
      plan: ({ head }) => (head?.method === 'POST' ? { stallAt: 1_000 } : {}),
    })
  })
  afterAll(async () => {
    await proxy?.close()
    await server?.close()
  })

  const read = (target: string, options: Parameters<typeof createEventStream>[1] = {}) =>
    collect(createEventStream(target, { headers: { 'x-user': 'alice' }, ...options }))

  it('fails with resume-failed and cursor-expired (410) when the log moved past the cursor', async () => {
    // While the reader is stalled, the producer runs far past what the log keeps; then the
    // connection drops and the resume asks for events the log no longer has.
    const stream = createEventStream(`${proxy.origin}/streams`, {
      method: 'POST',
      headers: { 'x-user': 'alice' },
      backoff: { initialMs: 0 },
    })
    const reading = collect(stream)
    const connection = await waitFor(() => proxy.connections.find((c) => c.delivered === 1_000))
    // The stream's id, once the client has read the response head's Content-Location.
    const id = await waitFor(() => new URL(stream.url).pathname.match(/^\/streams\/(.+)$/)?.[1])
    await waitFor(async () => (await server.log.info(id))?.status === 'complete')
    connection.cutNow()
    const { error, events, snapshot } = await reading
    expect(error).toMatchObject({
      code: 'resume-failed',
      status: 410,
      serverCode: 'cursor-expired',
    })
    expect(events.length).toBeGreaterThan(0)
    expect(snapshot.reconnects).toBe(1)
  })

  it('fails with auth (403) when someone else reads the stream', async () => {
    const { error, snapshot } = await read(url, { headers: { 'x-user': 'mallory' } })
    expect(error).toMatchObject({ code: 'auth', status: 403 })
    expect(snapshot.reconnects).toBe(0)
  })

  it('replays what is left of a finished stream, then done', async () => {
    const { events, snapshot } = await read(url, { lastEventId: reference.at(-3)?.id })
    expect(events).toEqual(reference.slice(-2))
    expect(snapshot.closeReason).toBe('done')
  })

  it('answers done to a resume after the very end of a finished stream', async () => {
    const { events, snapshot } = await read(url, { lastEventId: reference.at(-1)?.id })
    expect(events.map((e) => e.type)).toEqual(['done'])
    expect(snapshot).toMatchObject({ closeReason: 'done', reconnects: 0 })
  })
})
