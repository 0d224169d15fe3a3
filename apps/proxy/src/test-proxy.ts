// Test support for the proxy's own tests: a real proxy on a loopback port with its log lines
// captured. Generic helpers (SSE reader, waitFor, seeded random) come from @unbroken/test-kit.
import type { EventLog } from '@unbroken/server'
import { readSse, type SseEvent } from '@unbroken/test-kit'
import { setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll } from 'vitest'
import { parseConfig, type UpstreamKind } from './config'
import type { GenerationRequest } from './request'
import { type RunningProxy, startProxy } from './server'
import { MOCK_BASE_URLS } from './upstreams/fixtures/fixture'
import { createSimulatedUpstream } from './upstreams/simulated'

/**
 * The platform's own fetch, taken before any test starts msw: test clients talk to the proxy over
 * the real loopback socket, never through msw's interceptor (which only the proxy's upstream
 * requests should meet, and under which cancelling a bypassed response's body never settles).
 */
export const directFetch: typeof fetch = globalThis.fetch

export interface TestProxy extends RunningProxy {
  /** Every JSON log line so far. */
  readonly logs: Array<Record<string, unknown>>
  /** The accounting records ("stream ended" lines) so far. */
  records(): Array<Record<string, unknown>>
}

/** What a test may put in the proxy's way. */
export interface TestProxyHooks {
  /** The event log to use, so that the test can act on it (complete a stream, close the log). */
  readonly eventLog?: EventLog | undefined
  /**
   * Sees each log line as the proxy writes it; what it throws, the proxy's logger call throws
   * (a fault the proxy cannot expect: a bug-class error where the line is written).
   */
  readonly onLog?: ((line: Record<string, unknown>) => void) | undefined
}

/**
 * Starts a proxy on 127.0.0.1 with a free port, a fast simulated model (no prefill, 2,000
 * tokens/s) and no shutdown grace, plus any `flags`. Stop it with `shutdown()`.
 */
export async function startTestProxy(
  flags: string[] = [],
  hooks: TestProxyHooks = {},
): Promise<TestProxy> {
  const logs: Array<Record<string, unknown>> = []
  const config = parseConfig(
    ['--port', '0', '--sim-ttft', '0ms', '--sim-rate', '2000', '--shutdown-grace', '0ms', ...flags],
    {},
  )
  const proxy = await startProxy(config, {
    logDestination: {
      write(text: string) {
        const line = JSON.parse(text)
        logs.push(line)
        hooks.onLog?.(line)
      },
    },
    eventLog: hooks.eventLog,
  })
  return {
    ...proxy,
    logs,
    records: () => logs.filter((line) => line.msg === 'stream ended'),
  }
}

/**
 * For the enclosing file or `describe`: a test proxy (`startTestProxy` with `flags` and `hooks`)
 * started before its tests and stopped after them.
 */
export function useTestProxy(flags: string[] = [], hooks: TestProxyHooks = {}) {
  let proxy: TestProxy | undefined
  beforeAll(async () => {
    proxy = await startTestProxy(flags, hooks)
  })
  afterAll(() => proxy?.shutdown())
  return {
    get proxy(): TestProxy {
      if (!proxy) throw new Error('The proxy starts in beforeAll: read it inside a test.')
      return proxy
    },
  }
}

/**
 * For the enclosing file or `describe`: a proxy in front of an msw-mocked upstream of `kind`
 * (handlers added with `server.use`, reset after each test), with `hooks`, started before the tests and stopped
 * after them. Requests to the proxy itself bypass msw to the real loopback socket.
 */
export function useMockedUpstream(
  kind: Exclude<UpstreamKind, 'simulated'>,
  flags: string[] = [],
  hooks: TestProxyHooks = {},
) {
  const server = setupServer()
  let proxy: TestProxy | undefined
  beforeAll(async () => {
    server.listen({ onUnhandledRequest: 'bypass' })
    proxy = await startTestProxy(
      ['--upstream', kind, '--upstream-url', MOCK_BASE_URLS[kind], ...flags],
      hooks,
    )
  })
  afterEach(() => server.resetHandlers())
  afterAll(async () => {
    await proxy?.shutdown()
    server.close()
  })
  return {
    server,
    get proxy(): TestProxy {
      if (!proxy) throw new Error('The proxy starts in beforeAll: read it inside a test.')
      return proxy
    },
  }
}

/** A chat request body for the native endpoint. */
export const chat = (content: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ messages: [{ role: 'user', content }], ...extra })

/** POSTs a native request; `headers` add to the JSON content type. */
export function postStream(
  proxy: RunningProxy,
  body: string,
  headers: Record<string, string> = {},
): Promise<Response> {
  return directFetch(`${proxy.url}/v1/streams`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  })
}

/** The concatenated `text` of the `delta` events. */
export const textOf = (events: readonly SseEvent[]): string =>
  events
    .filter((event) => event.event === 'delta')
    .map((event) => JSON.parse(event.data).text ?? '')
    .join('')

/** The id a resume continues after: the last event's. */
export const lastIdOf = (events: readonly SseEvent[]): string => events.at(-1)?.id ?? ''

/** Reads the first `count` events of a stream answer, then leaves (the stream goes on). */
export async function readThenLeave(response: Response, count: number): Promise<SseEvent[]> {
  const reader = readSse(response)
  const first = await reader.take(count)
  await reader.cancel()
  return first
}

/** Resumes the stream at `location` (a `Content-Location`) on `origin` after the events `seen`. */
export function resumeAfter(
  origin: string,
  location: string,
  seen: readonly SseEvent[],
): Promise<Response> {
  return directFetch(`${origin}${location}`, {
    headers: { 'last-event-id': lastIdOf(seen) },
  })
}

/** The text the simulated model answers `request` with, read from it directly. */
export async function simulatedText(request: GenerationRequest): Promise<string> {
  const upstream = createSimulatedUpstream({ ttftMs: 0, tokensPerSecond: 1e6 })
  let text = ''
  for await (const chunk of upstream.stream(request, { signal: new AbortController().signal })) {
    for (const event of chunk) if (event.type === 'text') text += event.text
  }
  return text
}
