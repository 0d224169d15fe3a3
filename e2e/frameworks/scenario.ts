/**
 * One scenario for every framework helper: a chat producer behind the framework, mounted under
 * `/api`, reached through a fault proxy that cuts the POST's connection mid-stream. The real
 * client must resume by GET of the mounted `Content-Location` and deliver the text exactly once.
 */
import { createEventStream } from '@unbroken/client'
import type { Producer, ResumableStreamsOptions } from '@unbroken/server'
import { createFaultProxy, type FaultProxy } from '@unbroken/test-kit'
import { expect } from 'vitest'

export const TOKENS = Array.from({ length: 40 }, (_, i) => `token-${i} `)
export const EXPECTED_TEXT = TOKENS.join('')

// A short `retry:` keeps the reconnect after the cut quick; the client waits about this long.
export const REGISTRY_OPTIONS: ResumableStreamsOptions = { retryMs: 20 }

/** Streams the prompt's echo as `delta` events, one per token, into the log. */
export async function sendTokens(stream: Parameters<Producer>[0], prompt: unknown): Promise<void> {
  expect(prompt).toBe('hello')
  for (const token of TOKENS) await stream.send({ event: 'delta', data: token })
}

/** A proxy in front of `port` that cuts the first connection (the POST) after `cutAt` bytes. */
export function cuttingProxy(port: number, cutAt = 600): Promise<FaultProxy> {
  return createFaultProxy({
    targetPort: port,
    plan: ({ index }) => (index === 0 ? { cutAt } : {}),
  })
}

/**
 * POSTs a chat through `proxy` to `path` with the real client and checks the cut was resumed:
 * the text arrives whole and once, and the reconnect was a GET of the mounted stream URL.
 */
export async function chatThroughCut(proxy: FaultProxy, path: string): Promise<void> {
  let text = ''
  const stream = createEventStream(`${proxy.origin}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ prompt: 'hello' }),
  })
  for await (const event of stream) if (event.type === 'delta') text += event.data
  expect(text).toBe(EXPECTED_TEXT)
  const [post, resume] = proxy.connections
  expect(post?.cut).toBe(true)
  expect(post?.head).toMatchObject({ method: 'POST', path })
  expect(resume?.head?.method).toBe('GET')
  expect(resume?.head?.path).toMatch(/^\/api\/streams\/[A-Za-z0-9_-]{22}$/)
  expect(resume?.head?.headers['last-event-id']).toBeTruthy()
}

/** The CORS preflight of a cross-origin POST reaches the registry through the helper. */
export async function expectPreflight(origin: string, path: string): Promise<void> {
  const response = await fetch(`${origin}${path}`, {
    method: 'OPTIONS',
    headers: {
      origin: 'https://app.example',
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'content-type, idempotency-key',
    },
  })
  expect(response.status).toBe(204)
  expect(response.headers.get('access-control-allow-origin')).toBe('https://app.example')
  expect(response.headers.get('access-control-allow-headers')).toContain('Idempotency-Key')
}
