import { type AuthContext, createEventStream } from '@unbroken/client'
import type { EventHubOptions } from '@unbroken/server'
import { createFaultProxy, type FaultProxy } from '@unbroken/test-kit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { assertSameEvents } from '../support/compare'
import { collect } from '../support/read'
import { type RegistryServer, startRegistryServer } from './registry-server'
import { produce, readLog, sourceEvents } from './source'

const LEAD_MS = 300
const SOURCE = sourceEvents(200)

type AuthServer = {
  readonly server: RegistryServer
  /** Bearer token → principal: a test deletes a token to expire it and adds its successor. */
  readonly tokens: Map<string, string>
  /** Lets the producer go on past its first half. */
  readonly refreshed: () => void
}

/**
 * A registry that authenticates bearer tokens from `tokens`. Its producer sends half the stream,
 * then more only once the test calls `refreshed()` (after the client got a fresh token), so the
 * credential change always lands mid-stream.
 */
async function startAuthServer(hub?: EventHubOptions): Promise<AuthServer> {
  const tokens = new Map([['token-1', 'alice']])
  let refreshed = () => {}
  const refresh = new Promise<void>((resolve) => {
    refreshed = resolve
  })
  const server = await startRegistryServer({
    hub,
    principal: (request) =>
      tokens.get(request.header('authorization')?.replace('Bearer ', '') ?? ''),
    producer: () => async (stream) => {
      await produce(SOURCE.slice(0, 100))(stream, undefined)
      await refresh
      await produce(SOURCE.slice(100))(stream, undefined)
    },
  })
  return { server, tokens, refreshed: () => refreshed() }
}

describe('a credential that expires mid-stream', () => {
  let auth: AuthServer
  // The hub reads the current credential's expiry when the lead time arrives.
  let expiresAt = 0

  beforeAll(async () => {
    auth = await startAuthServer({ expiresAt: () => expiresAt, authLeadMs: LEAD_MS })
  })
  afterAll(() => auth?.server.close())

  it('is refreshed through onAuthRequired, then the stream resumes without loss', async () => {
    const { server, tokens, refreshed } = auth
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
  let auth: AuthServer
  let proxy: FaultProxy

  beforeAll(async () => {
    auth = await startAuthServer()
    proxy = await createFaultProxy({ targetPort: auth.server.port })
  })
  afterAll(async () => {
    await proxy?.close()
    await auth?.server.close()
  })

  it('gets a 401 on resume, refreshes through onAuthRequired, then resumes without loss', async () => {
    const { server, tokens, refreshed } = auth
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
