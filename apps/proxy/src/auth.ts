// Short-lived access tokens: JWTs signed with HMAC-SHA256 (HS256) under `--token-secret`, so
// that expiry happens for real, mid-stream. A backend can mint the same tokens with any JWT
// library and the shared secret. Hono's own JWT helpers sign and verify them: no extra dependency. Streams are bound to the token's subject (`sub`).
import { randomBytes } from 'node:crypto'
import { UnbrokenServerError } from '@unbroken/server'
import { sign, verify } from 'hono/jwt'
import { JwtTokenExpired } from 'hono/utils/jwt/types'

/** The verified facts of a token. */
export interface TokenClaims {
  readonly subject: string
  /** Epoch ms after which the token is refused. */
  readonly expiresAt: number
}

/** A freshly issued token, as `POST /v1/auth/token` returns it. */
export interface IssuedToken extends TokenClaims {
  readonly token: string
}

export interface TokenAuth {
  /** Signs a token for `subject` that lives `ttlMs` (at most the configured TTL). */
  issue(subject: string, ttlMs?: number): Promise<IssuedToken>
  /**
   * Verifies an `Authorization: Bearer <token>` header. Rejects with the server's
   * `unauthenticated` error (answered 401) when it is missing, malformed, forged or expired.
   */
  verify(authorization: string | undefined): Promise<TokenClaims>
  /**
   * `verify` of a request's `Authorization` header, done once per request (`request` is the key:
   * the route and the registry's `principal` and `expiresAt` hooks all ask about the same one).
   */
  authenticate(request: object, authorization: string | undefined): Promise<TokenClaims>
  /** The longest lifetime a token gets. */
  readonly ttlMs: number
}

const ALGORITHM = 'HS256'
const ISSUER = 'unbroken-proxy'

export function createTokenAuth(secret: string, ttlMs: number): TokenAuth {
  const verified = new WeakMap<object, Promise<TokenClaims>>()
  const auth: TokenAuth = {
    ttlMs,
    async issue(subject, requestedMs = ttlMs) {
      // JWT times are whole seconds; rounding up keeps a 1 s token alive for at least 1 s.
      const exp = Math.ceil((Date.now() + Math.min(requestedMs, ttlMs)) / 1000)
      const iat = Math.floor(Date.now() / 1000)
      const token = await sign({ sub: subject, iss: ISSUER, iat, exp }, secret, ALGORITHM)
      return { token, subject, expiresAt: exp * 1000 }
    },
    async verify(authorization) {
      const token = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1]
      if (!token)
        throw unauthenticated('Send `Authorization: Bearer <token>` (from POST /v1/auth/token).')
      try {
        const payload = await verify(token, secret, { alg: ALGORITHM, iss: ISSUER })
        if (typeof payload.sub !== 'string' || typeof payload.exp !== 'number') {
          throw unauthenticated('The token has no subject or expiry.')
        }
        return { subject: payload.sub, expiresAt: payload.exp * 1000 }
      } catch (error) {
        if (error instanceof UnbrokenServerError) throw error
        if (error instanceof JwtTokenExpired) {
          throw unauthenticated('The token has expired; get a new one from POST /v1/auth/token.')
        }
        throw unauthenticated('The token is not valid here.')
      }
    },
    authenticate(request, authorization) {
      let claims = verified.get(request)
      if (!claims) {
        claims = auth.verify(authorization)
        verified.set(request, claims)
      }
      return claims
    },
  }
  return auth
}

/** A subject for a caller that names none: unguessable, so it owns its streams alone. */
export function createAnonymousSubject(): string {
  return `anon-${randomBytes(12).toString('base64url')}`
}

function unauthenticated(message: string): UnbrokenServerError {
  return new UnbrokenServerError('unauthenticated', message)
}
