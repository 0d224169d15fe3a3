import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { buildRequest, toByteString } from './request'

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

  it('sends the method and body on the first request', async () => {
    const [, init] = await buildRequest({ method: 'POST', body: '{}' }, url, false, 0, '')
    expect(init).toMatchObject({ method: 'POST', body: '{}', cache: 'no-store' })
  })

  it('resumes with a bodiless GET', async () => {
    const [, init] = await buildRequest({ method: 'POST', body: '{}' }, url, true, 0, '7')
    expect(init).toMatchObject({ method: 'GET', body: null })
  })

  it('sets Accept unless the caller did', async () => {
    const [, plain] = await buildRequest({}, url, false, 0, '')
    const [, custom] = await buildRequest({ headers: { accept: 'x/y' } }, url, false, 0, '')
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
      url,
      true,
      2,
      '9',
    )
    expect(seen).toEqual([{ url, method: 'GET', attempt: 2, lastEventId: '9' }])
    expect(headersOf(init).get('authorization')).toBe('Bearer t')
  })

  it('sends the last id as Last-Event-ID', async () => {
    const [target, init] = await buildRequest({}, url, true, 0, 'ü')
    expect(target).toBe(url)
    expect(headersOf(init).get('last-event-id')).toBe('\xc3\xbc')
  })

  it('sends the last id as the opted-in query parameter instead of a header', async () => {
    const [target, init] = await buildRequest(
      { lastEventIdQueryParam: 'lastEventId' },
      url,
      true,
      0,
      'a b&日',
    )
    expect(new URL(target).searchParams.get('lastEventId')).toBe('a b&日')
    expect(new URL(target).searchParams.get('x')).toBe('1')
    expect(headersOf(init).has('last-event-id')).toBe(false)
  })

  it('sends no resume id when there is none', async () => {
    const [target, init] = await buildRequest({ lastEventIdQueryParam: 'id' }, url, false, 0, '')
    expect(target).toBe(url)
    expect(headersOf(init).has('last-event-id')).toBe(false)
  })
})
