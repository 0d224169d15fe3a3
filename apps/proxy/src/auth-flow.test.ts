// Tokens for real: issued by the proxy, checked on every stream request, expiring mid-stream.
import { createEventStream } from '@unbroken/client'
import { readSse, type SseEvent } from '@unbroken/test-kit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chat, directFetch, postStream, startTestProxy, type TestProxy, textOf } from './test-proxy'
import { composeAnswer, createRandom, seedOf, tokenize } from './upstreams/simulated-text'

const SECRET = 'test-secret-test-secret-test-secret!'
let proxy: TestProxy
beforeAll(async () => {
  proxy = await startTestProxy(['--token-secret', SECRET, '--token-ttl', '2s', '--sim-rate', '100'])
})
afterAll(() => proxy.shutdown())

async function tokenFor(subject: string, target = proxy, headers: Record<string, string> = {}) {
  const response = await directFetch(`${target.url}/v1/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ subject }),
  })
  return { response, body: await response.json() }
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

describe('with a token secret', () => {
  it('refuses a stream without a token: 401 unauthenticated', async () => {
    const response = await postStream(proxy, chat('hi'))
    expect(response.status).toBe(401)
    expect(await response.json()).toMatchObject({ code: 'unauthenticated', retryable: false })
  })

  it('issues a short-lived token that starts a stream', async () => {
    const { response, body } = await tokenFor('alice')
    expect(response.status).toBe(200)
    expect(body).toEqual({
      token: expect.any(String),
      tokenType: 'Bearer',
      subject: 'alice',
      expiresAt: expect.any(Number),
    })
    expect(body.expiresAt - Date.now()).toBeLessThanOrEqual(3000)
    const stream = await postStream(proxy, chat('hi', { maxTokens: 3 }), bearer(body.token))
    expect(stream.status).toBe(200)
    expect((await readSse(stream).rest()).at(-1)?.event).toBe('done')
  })

  it('binds a stream to its subject: another subject gets 403 on GET and DELETE', async () => {
    const alice = (await tokenFor('alice')).body.token
    const bob = (await tokenFor('bob')).body.token
    const stream = await postStream(proxy, chat('mine', { maxTokens: 3 }), bearer(alice))
    await readSse(stream).rest()
    const url = `${proxy.url}${stream.headers.get('content-location')}`
    expect((await directFetch(url, { headers: bearer(bob) })).status).toBe(403)
    expect((await directFetch(url, { method: 'DELETE', headers: bearer(bob) })).status).toBe(403)
    const own = await directFetch(url, { headers: bearer(alice) })
    expect(own.status).toBe(200)
    await readSse(own).rest()
  })

  it('refuses a malformed subject with 400', async () => {
    const { response, body } = await tokenFor('not allowed!')
    expect(response.status).toBe(400)
    expect(body.message).toMatch(/^subject: /)
  })

  it('sends auth-expired before the token runs out; the client refreshes and resumes to the exact text', async () => {
    let token = (await tokenFor('carol')).body.token
    let refreshes = 0
    // 319 tokens at 100/s: the stream outlives the 2 s token at least once.
    const request = {
      messages: [{ role: 'user' as const, content: 'A long answer please' }],
      seed: 7,
    }
    const stream = createEventStream(`${proxy.url}/v1/streams`, {
      fetch: directFetch,
      method: 'POST',
      body: JSON.stringify(request),
      headers: () => ({ 'content-type': 'application/json', ...bearer(token) }),
      onAuthRequired: async ({ reason }) => {
        expect(reason).toBe('auth-expired')
        refreshes += 1
        token = (await tokenFor('carol')).body.token
      },
    })
    const events: SseEvent[] = []
    for await (const { type, data } of stream) events.push({ event: type, data })
    const tokens = tokenize(composeAnswer(createRandom(seedOf(request)), request.messages))
    expect(tokens.length).toBeGreaterThanOrEqual(300)
    expect(refreshes).toBeGreaterThanOrEqual(1)
    expect(textOf(events)).toBe(tokens.join(''))
    expect(stream.getSnapshot().closeReason).toBe('done')
  })
})

describe('with a mint key', () => {
  let minted: TestProxy
  beforeAll(async () => {
    minted = await startTestProxy([
      '--token-secret',
      SECRET,
      '--token-mint-key',
      'mint-key-0123456789',
    ])
  })
  afterAll(() => minted.shutdown())

  it('issues tokens only to callers that present it', async () => {
    expect((await tokenFor('dave', minted)).response.status).toBe(401)
    expect((await tokenFor('dave', minted, bearer('wrong-key-0123456789'))).response.status).toBe(
      401,
    )
    expect((await tokenFor('dave', minted, bearer('mint-key-0123456789'))).response.status).toBe(
      200,
    )
  })
})
