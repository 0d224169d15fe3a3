// The upstream call behind `/v1/messages` ends with the request that made it, when nothing can
// use its answer: a stream the registry refused after the upstream had accepted (the status
// waits for the upstream), and a non-streamed request whose client left. msw plays a slow
// Anthropic upstream; the proxy is real, on loopback.
import { describe, expect, it } from 'vitest'
import { directFetch, useMockedUpstream } from '../test-proxy'
import { anthropicStream } from '../upstreams/fixtures/anthropic'
import { pacedHandler } from '../upstreams/fixtures/mock'

const target = useMockedUpstream('anthropic', ['--max-streams', '1'])
const { server } = target

/** A slow upstream (a token every 100 ms) whose requests are kept, and a promise of each one's abort. */
function slowUpstream() {
  const requests: Request[] = []
  const waiters = new Map<number, () => void>()
  server.use(
    pacedHandler('anthropic', anthropicStream(Array.from({ length: 100 }, (_, i) => `t${i} `)), {
      gapMs: 100,
      onRequest: (request) => {
        requests.push(request)
        waiters.get(requests.length)?.()
      },
    }),
  )
  return {
    /** Resolves once the `n`th request (1-based) reached the upstream. */
    request: async (n: number) => {
      if (!requests[n - 1]) await new Promise<void>((resolve) => waiters.set(n, resolve))
      return requests[n - 1] as Request
    },
    aborted: (request: Request) =>
      new Promise<boolean>((resolve) => {
        if (request.signal.aborted) resolve(true)
        request.signal.addEventListener('abort', () => resolve(true))
      }),
  }
}

const body = (stream: boolean) =>
  JSON.stringify({
    model: 'claude-haiku-4-5',
    max_tokens: 256,
    stream,
    messages: [{ role: 'user', content: 'Count slowly' }],
  })

const post = (stream: boolean, signal?: AbortSignal) =>
  directFetch(`${target.proxy.url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: body(stream),
    signal,
  })

describe('the upstream call of /v1/messages', () => {
  it('is aborted when the registry refuses the stream it was opened for', async () => {
    const upstream = slowUpstream()
    const running = await post(true)
    expect(running.status).toBe(200)
    const refused = await post(true)
    // Past --max-streams: the registry's refusal (the status the SDKs retry).
    expect(refused.status).toBe(429)
    await refused.body?.cancel()
    expect(await upstream.aborted(await upstream.request(2))).toBe(true)
    const location = running.headers.get('content-location') as string
    await directFetch(`${target.proxy.url}${location}`, { method: 'DELETE' })
    await running.body?.cancel()
  })

  it('is aborted when the client of a non-streamed request leaves', async () => {
    const upstream = slowUpstream()
    const client = new AbortController()
    const answer = post(false, client.signal).catch((error: unknown) => error)
    const request = await upstream.request(1)
    client.abort()
    expect(await answer).toMatchObject({ name: 'AbortError' })
    expect(await upstream.aborted(request)).toBe(true)
  })
})
