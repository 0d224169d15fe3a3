// Short-lived tokens from the proxy (`POST /v1/auth/token`). The hook asks for headers before
// every request and calls `refreshToken` on `auth-expired`; a token is minted with the lifetime
// chosen in the network panel, so expiry and refresh happen while you watch.
import { tabId } from './session'

/** The proxy runs without tokens (open local mode): there is nothing to send. */
const NO_TOKEN = undefined

let lifetime: number | undefined
let token: Promise<string | undefined> | undefined

async function mint(ttlSeconds: number | undefined): Promise<string | undefined> {
  const response = await fetch('/v1/auth/token', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ subject: tabId, ...(ttlSeconds && { ttlSeconds }) }),
  })
  if (response.status === 404) return NO_TOKEN
  if (!response.ok) throw new Error(`POST /v1/auth/token answered ${response.status}`)
  return ((await response.json()) as { token: string }).token
}

function mintToken(): Promise<string | undefined> {
  const minted = mint(lifetime)
  token = minted
  // A failed mint is not kept: the next request tries again.
  minted.catch(() => {
    if (token === minted) token = undefined
  })
  return minted
}

/** Tokens minted from now on live `seconds` (undefined: the proxy's `--token-ttl`). */
export function setTokenLifetime(seconds: number | undefined): void {
  if (seconds === lifetime) return
  lifetime = seconds
  token = undefined
}

/** Mints a new token; the hook calls it on `auth-expired` and after a 401. */
export async function refreshToken(): Promise<void> {
  await mintToken()
}

/** `Authorization` for the next request, minting the first token on demand. */
export async function authorization(): Promise<Record<string, string>> {
  const value = await (token ?? mintToken())
  return value === NO_TOKEN ? {} : { authorization: `Bearer ${value}` }
}
