import { type AuthContext, createEventStream } from '@unbroken/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createFaultProxy, type FaultProxy } from '../fault-proxy'
import { assertSameEvents } from '../support/compare'
import { collect } from '../support/read'
import { type RegistryServer, startRegistryServer } from './registry-server'
import { produce, readLog, sourceEvents } from './source'

const LEAD_MS = 300
const SOURCE = sourceEvents(200)

describe('a credential that expires mid-stream', () => {
  let server: RegistryServer
  const tokens = new Map<string, string>([['token-1', 'alice']])
  // The hub reads the current credential's expiry when the lead time arrives.
  let expiresAt = 0
  let refreshed: () => void
  const refresh = new Promise<void>((resolve) => {
    refreshed = resolve
  })

  beforeAll(async () => {
    server = await startRegistryServer({
      hub: { expiresAt: () => expiresAt, authLeadMs: LEAD_MS },
      principal: (request) =>
        tokens.get(request.header('authorization')?.replace('Bearer ', '') ?? ''),
      // Half the stream, then more only once the client has a fresh token: the expiry lands mid-stream.
      producer: () => async (stream) => {
        await produce(SOURCE.slice(0, 100))(stream, undefined)
        await refresh
        await produce(SOURCE.slice(100))(stream, undefined)
      },
    })
  })
  afterAll(() => server?.close())

  it('is refreshed through onAuthRequired, then the stream resumes without loss', async () => {
    let token = 'token-1'
    expiresAt = Date.now() + LEAD_MS + 200
    const refreshes: AuthContext['reason'][] = []
    const stream = createEventStream(server.streamsUrl, {
      method: 'POST',
      backoff: { initialMs: 0 },
      headers: () => ({ authorization: `Bearer ${token}` }),
      onAuthRequired: ({ reason }) => {
        refreshes.push(reason)
        token = 'token-2'
        tokens.set(token, 'alice')
        tokens.delete('token-1')
        expiresAt = Date.now() + 600_000
        refreshed()
      },
    })
    const { events, snapshot } = await collect(stream)
    expect(refreshes).toEqual(['auth-expired'])
    expect(server.hub.metrics().authExpiries).toBe(1)
    expect(snapshot).toMatchObject({ closeReason: 'done', reconnects: 1 })
    const id = new URL(stream.url).pathname.split('/').pop() ?? ''
    assertSameEvents({ scenario: 'auth expiry mid-stream' }, await readLog(server.log, id), events)
  })
})

describe('a credential that expired while the client was disconnected', () => {
  let server: RegistryServer
  let proxy: FaultProxy
  const tokens = new Map<string, string>([['token-1', 'alice']])
  let refreshed: () => void
  const refresh = new Promise<void>((resolve) => {
    refreshed = resolve
  })

  beforeAll(async () => {
    server = await startRegistryServer({
      principal: (request) =>
        tokens.get(request.header('authorization')?.replace('Bearer ', '') ?? ''),
      producer: () => async (stream) => {
        await produce(SOURCE.slice(0, 100))(stream, undefined)
        await refresh
        await produce(SOURCE.slice(100))(stream, undefined)
      },
    })
    proxy = await createFaultProxy({ targetPort: server.port })
  })
  afterAll(async () => {
    await proxy?.close()
    await server?.close()
  })

  it('gets a 401 on resume, refreshes through onAuthRequired, then resumes without loss', async () => {
    let token = 'token-1'
    const refreshes: AuthContext['reason'][] = []
    const stream = createEventStream(`${proxy.origin}/streams`, {
      method: 'POST',
      backoff: { initialMs: 0 },
      headers: () => ({ authorization: `Bearer ${token}` }),
      onEvent: (event) => {
        if (!event.data.startsWith('#99 ')) return
        // The token runs out, and then the connection drops: the resume meets a 401.
        tokens.delete('token-1')
        proxy.cutAll()
      },
      onAuthRequired: ({ reason }) => {
        refreshes.push(reason)
        token = 'token-2'
        tokens.set(token, 'alice')
        refreshed()
      },
    })
    const { events, snapshot } = await collect(stream)
    expect(refreshes).toEqual(['unauthorized'])
    expect(snapshot.closeReason).toBe('done')
    const id = new URL(stream.url).pathname.split('/').pop() ?? ''
    assertSameEvents({ scenario: '401 on resume' }, await readLog(server.log, id), events)
  })
})
