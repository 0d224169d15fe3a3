import { createEventStream } from '@unbroken/client'
import { createFaultProxy, type FaultProxy } from '@unbroken/test-kit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { assertSameEvents, type ComparableEvent } from '../support/compare'
import { collect } from '../support/read'
import { type RegistryServer, startRegistryServer } from './registry-server'
import { produce, readLog, sourceEvents } from './source'

describe('a stream delivered in tiny TCP segments', () => {
  let server: RegistryServer
  let url: string
  let reference: readonly ComparableEvent[]
  const proxies: FaultProxy[] = []

  beforeAll(async () => {
    server = await startRegistryServer()
    const started = await server.registry.start(produce(sourceEvents(300)))
    reference = await readLog(server.log, started.id)
    url = started.url
  })
  afterAll(async () => {
    await Promise.all(proxies.map((proxy) => proxy.close()))
    await server?.close()
  })

  it.each([1, 2, 3, 5])(
    'keeps multi-byte text intact in %i-byte segments',
    async (segmentBytes) => {
      const proxy = await createFaultProxy({ targetPort: server.port, plan: { segmentBytes } })
      proxies.push(proxy)
      const { events, snapshot } = await collect(
        createEventStream(`${proxy.origin}${url}`, { maxAttempts: 1 }),
      )
      assertSameEvents({ scenario: `${segmentBytes}-byte segments` }, reference, events)
      expect(snapshot).toMatchObject({ closeReason: 'done', reconnects: 0 })
      // Each write carries at most `segmentBytes` (fewer where a server write ends mid-segment).
      const connection = proxy.connections[0]
      expect(connection?.writes).toBeGreaterThanOrEqual((connection?.delivered ?? 0) / segmentBytes)
    },
  )
})
