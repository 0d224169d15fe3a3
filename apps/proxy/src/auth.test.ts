import { sign } from 'hono/jwt'
import { describe, expect, it } from 'vitest'
import { createAnonymousSubject, createTokenAuth } from './auth'

const SECRET = 'a-test-secret-that-is-long-enough-1234'
const auth = createTokenAuth(SECRET, 60_000)

describe('createTokenAuth', () => {
  it('issues a token that verifies to its subject and expiry', async () => {
    const issued = await auth.issue('alice')
    const claims = await auth.verify(`Bearer ${issued.token}`)
    expect(claims).toEqual({ subject: 'alice', expiresAt: issued.expiresAt })
    expect(issued.expiresAt - Date.now()).toBeGreaterThan(59_000)
  })

  it('never issues a token longer-lived than the configured TTL', async () => {
    const issued = await auth.issue('alice', 3_600_000)
    expect(issued.expiresAt - Date.now()).toBeLessThanOrEqual(61_000)
  })

  it.each([
    ['no header', undefined, /Authorization: Bearer/],
    ['another scheme', 'Basic YWxpY2U6eA==', /Authorization: Bearer/],
    ['garbage', 'Bearer not-a-jwt', /not valid/],
  ])('refuses %s with unauthenticated', async (_, header, message) => {
    await expect(auth.verify(header)).rejects.toMatchObject({
      code: 'unauthenticated',
      message: expect.stringMatching(message),
    })
  })

  it('refuses a token signed with another secret', async () => {
    const forged = await createTokenAuth('another-secret-that-is-long-enough-xyz', 60_000).issue(
      'alice',
    )
    await expect(auth.verify(`Bearer ${forged.token}`)).rejects.toMatchObject({
      code: 'unauthenticated',
    })
  })

  it('refuses an expired token and says how to get a new one', async () => {
    const past = Math.floor(Date.now() / 1000) - 10
    const token = await sign(
      { sub: 'alice', iss: 'unbroken-proxy', iat: past - 60, exp: past },
      SECRET,
      'HS256',
    )
    await expect(auth.verify(`Bearer ${token}`)).rejects.toMatchObject({
      code: 'unauthenticated',
      message: expect.stringMatching(/expired.*POST \/v1\/auth\/token/),
    })
  })

  it('refuses an "alg: none" token', async () => {
    const payload = Buffer.from(
      JSON.stringify({ sub: 'alice', iss: 'unbroken-proxy', exp: 9e9 }),
    ).toString('base64url')
    const token = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${payload}.`
    await expect(auth.verify(`Bearer ${token}`)).rejects.toMatchObject({ code: 'unauthenticated' })
  })

  it('verifies a request once, however many times it is asked', async () => {
    const issued = await auth.issue('bob')
    const request = {}
    const header = `Bearer ${issued.token}`
    expect(auth.authenticate(request, header)).toBe(auth.authenticate(request, header))
  })

  it('makes anonymous subjects that do not repeat', () => {
    expect(createAnonymousSubject()).not.toBe(createAnonymousSubject())
  })
})
