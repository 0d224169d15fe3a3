import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { type Attempt, buildRequest, createIdempotencyKey, toByteString } from './request'

const headersOf = (init: RequestInit) => init.headers as Headers

describe('toByteString', () => {
  it('leaves ASCII ids unchanged', () => {
    expect(toByteString('abc-123')).toBe('abc-123')
  })

  it('turns non-Latin-1 ids into their UTF-8 bytes', () => {
    expect(toByteString('日')).toBe('\xe6\x97\xa5')
    expect(Buffer.from(toByteString('é😀'), 'latin1').toString('utf8')).toBe('é😀')
  })

  it('never makes a Headers value throw, for any id without NUL, CR or LF', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (id) => {
        const clean = id.replace(/[\0\r\n]/g, '')
        expect(() => new Headers({ 'last-event-id': toByteString(clean) })).not.toThrow()
      }),
    )
  })
})

describe('buildRequest', () => {
  const url = 'http://127.0.0.1:1/s?x=1'
  const first: Attempt = {
    url,
    resuming: false,
    failures: 0,
    lastEventId: '',
    idempotencyKey: undefined,
  }
  const resume = (lastEventId: string, failures = 0): Attempt => ({
    ...first,
    resuming: true,
    failures,
    lastEventId,
  })

  it('sends the method and body on the first request', async () => {
    const [, init] = await buildRequest({ method: 'POST', body: '{}' }, first)
    expect(init).toMatchObject({ method: 'POST', body: '{}', cache: 'no-store' })
  })

  it('resumes with a bodiless GET', async () => {
    const [, init] = await buildRequest({ method: 'POST', body: '{}' }, resume('7'))
    expect(init).toMatchObject({ method: 'GET', body: null })
  })

  it('sets Accept unless the caller did', async () => {
    const [, plain] = await buildRequest({}, first)
    const [, custom] = await buildRequest({ headers: { accept: 'x/y' } }, first)
    expect(headersOf(plain).get('accept')).toBe('text/event-stream')
    expect(headersOf(custom).get('accept')).toBe('x/y')
  })

  it('calls a headers function with the attempt context', async () => {
    const seen: unknown[] = []
    const [, init] = await buildRequest(
      {
        headers: async (context) => {
          seen.push(context)
          return { authorization: 'Bearer t' }
        },
      },
      resume('9', 2),
    )
    expect(seen).toEqual([{ url, method: 'GET', attempt: 2, lastEventId: '9' }])
    expect(headersOf(init).get('authorization')).toBe('Bearer t')
  })

  it('sends the last id as Last-Event-ID', async () => {
    const [target, init] = await buildRequest({}, resume('ü'))
    expect(target).toBe(url)
    expect(headersOf(init).get('last-event-id')).toBe('\xc3\xbc')
  })

  it('sends the last id as the opted-in query parameter instead of a header', async () => {
    const [target, init] = await buildRequest(
      { lastEventIdQueryParam: 'lastEventId' },
      resume('a b&日'),
    )
    expect(new URL(target).searchParams.get('lastEventId')).toBe('a b&日')
    expect(new URL(target).searchParams.get('x')).toBe('1')
    expect(headersOf(init).has('last-event-id')).toBe(false)
  })

  it('sends no resume id when there is none', async () => {
    const [target, init] = await buildRequest({ lastEventIdQueryParam: 'id' }, first)
    expect(target).toBe(url)
    expect(headersOf(init).has('last-event-id')).toBe(false)
  })

  it('sends the idempotency key with the first request, and not with a resume', async () => {
    const keyed = { ...first, idempotencyKey: 'k1' }
    const [, post] = await buildRequest({ method: 'POST' }, keyed)
    const [, get] = await buildRequest({ method: 'POST' }, { ...keyed, resuming: true })
    expect(headersOf(post).get('idempotency-key')).toBe('k1')
    expect(headersOf(get).has('idempotency-key')).toBe(false)
  })

  it("keeps the caller's own Idempotency-Key header", async () => {
    const [, init] = await buildRequest(
      { method: 'POST', headers: { 'idempotency-key': 'mine' } },
      { ...first, idempotencyKey: 'k1' },
    )
    expect(headersOf(init).get('idempotency-key')).toBe('mine')
  })
})

describe('createIdempotencyKey', () => {
  it('makes 128 random bits of base64url, different every time', () => {
    const keys = Array.from({ length: 100 }, createIdempotencyKey)
    for (const key of keys) expect(key).toMatch(/^[A-Za-z0-9_-]{22}$/)
    expect(new Set(keys).size).toBe(100)
  })
})
