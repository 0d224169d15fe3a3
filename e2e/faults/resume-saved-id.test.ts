import { createEventStream } from '@unbroken/client'
import { createMemoryEventLog } from '@unbroken/server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { collect } from '../support/read'
import { type RegistryServer, startRegistryServer } from './registry-server'
import { produce, sourceEvents } from './source'

describe('a resume that starts from a saved id (as after a page reload)', () => {
  let server: RegistryServer
  let url: string

  beforeAll(async () => {
    server = await startRegistryServer({
      log: createMemoryEventLog({ maxEvents: 100, ttlMs: 60_000 }),
    })
    const started = await server.registry.start(produce(sourceEvents(300)))
    url = `${server.origin}${started.url}`
  })
  afterAll(() => server?.close())

  it('fails with resume-failed (404) for an unknown stream', async () => {
    const { error } = await collect(
      createEventStream(`${server.origin}/streams/${'x'.repeat(22)}`, { lastEventId: '1' }),
    )
    expect(error).toMatchObject({ code: 'resume-failed', status: 404 })
  })

  it('fails with resume-failed (410, cursor-expired) for a cursor older than the log keeps', async () => {
    const { error } = await collect(createEventStream(url, { lastEventId: '5' }))
    expect(error).toMatchObject({
      code: 'resume-failed',
      status: 410,
      serverCode: 'cursor-expired',
    })
  })
})
