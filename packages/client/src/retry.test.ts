import { describe, expect, it } from 'vitest'
import { type ClientErrorDetails, UnbrokenClientError } from './errors'
import { decideRetry, type RetryFacts } from './retry'
import type { EventStreamOptions } from './types'

const fail = (code: UnbrokenClientError['code'], details: ClientErrorDetails = {}) =>
  new UnbrokenClientError(code, `${code} happened`, details)

const network = fail('network', { retryable: true })
const http = (status: number, retryable = true, retryAfterMs = 0) =>
  fail('http-status', { status, retryable, retryAfterMs })
const authExpired = fail('auth', { serverCode: 'auth-expired' })

const refreshing: EventStreamOptions = { onAuthRequired: () => {} }

// A GET stream's first failure, with a base of 1 s and the jitter at its top.
const facts = (failure: UnbrokenClientError, more: Partial<RetryFacts> = {}): RetryFacts => ({
  failure,
  attempt: 1,
  elapsedMs: 0,
  resendsBody: false,
  opened: false,
  keyed: false,
  refreshed: false,
  baseDelayMs: 1000,
  jitter: 1,
  ...more,
})

// A POST stream with nowhere to resume: the next request would send the body again.
const post = (failure: UnbrokenClientError, more: Partial<RetryFacts> = {}) =>
  facts(failure, { resendsBody: true, ...more })

type Row = [
  name: string,
  facts: RetryFacts,
  options: EventStreamOptions,
  expected: { action: string; code?: string; delayMs?: number; reason?: string },
]

const table: Row[] = [
  ['a dropped GET retries after the base', facts(network), {}, { action: 'retry', delayMs: 1000 }],
  [
    'the backoff doubles per failure',
    facts(network, { attempt: 3 }),
    {},
    { action: 'retry', delayMs: 4000 },
  ],
  [
    "the server's retry: is the base",
    facts(network, { baseDelayMs: 250, attempt: 2 }),
    {},
    { action: 'retry', delayMs: 500 },
  ],
  [
    'the jitter takes a random share of the backoff',
    facts(network, { jitter: 0.5 }),
    {},
    { action: 'retry', delayMs: 500 },
  ],
  [
    'Retry-After comes first, the jittered backoff on top',
    facts(http(503, true, 7000)),
    {},
    { action: 'retry', delayMs: 8000 },
  ],
  [
    'an absurd Retry-After is capped at maxRetryAfterMs',
    facts(http(503, true, 99_999_999_000)),
    {},
    { action: 'retry', delayMs: 61_000 },
  ],
  [
    'an absurd retryAfterMs of an error event is capped too',
    facts(fail('server-error', { retryable: true, retryAfterMs: 1e15 })),
    {},
    { action: 'retry', delayMs: 61_000 },
  ],
  [
    'maxRetryAfterMs is an option',
    facts(http(503, true, 30_000)),
    { maxRetryAfterMs: 5000 },
    { action: 'retry', delayMs: 6000 },
  ],
  [
    'a 429 backs off from four times the base',
    facts(http(429)),
    {},
    { action: 'retry', delayMs: 4000 },
  ],
  [
    'a 429 keeps growing from there',
    facts(http(429), { attempt: 2 }),
    {},
    { action: 'retry', delayMs: 8000 },
  ],
  [
    'a 429 backoff stops at maxMs',
    facts(http(429), { attempt: 9 }),
    { backoff: { maxMs: 5000 } },
    { action: 'retry', delayMs: 5000 },
  ],
  [
    'a final status fails as it is',
    facts(http(400, false)),
    {},
    { action: 'fail', code: 'http-status' },
  ],
  [
    'a 401 with onAuthRequired refreshes',
    facts(fail('auth', { status: 401 })),
    refreshing,
    { action: 'refresh', reason: 'unauthorized' },
  ],
  [
    'an auth-expired event with onAuthRequired refreshes',
    facts(authExpired),
    refreshing,
    { action: 'refresh', reason: 'auth-expired' },
  ],
  [
    'a second 401 right after a refresh fails',
    facts(fail('auth', { status: 401 }), { refreshed: true }),
    refreshing,
    { action: 'fail', code: 'auth' },
  ],
  [
    'a 401 without onAuthRequired fails',
    facts(fail('auth', { status: 401 })),
    {},
    { action: 'fail', code: 'auth' },
  ],
  [
    'a POST with no response at all fails as network, not re-sent',
    post(network),
    {},
    { action: 'fail', code: 'network' },
  ],
  [
    'a POST refused with 503 is re-sent (not processed)',
    post(http(503)),
    {},
    { action: 'retry', delayMs: 1000 },
  ],
  [
    'a POST answered 500 is not re-sent (it may have started work)',
    post(http(500)),
    {},
    { action: 'fail', code: 'http-status' },
  ],
  [
    'a keyed POST with no response at all is re-sent',
    post(network, { keyed: true }),
    {},
    { action: 'retry', delayMs: 1000 },
  ],
  [
    'a keyed POST answered 502 by a gateway is re-sent',
    post(http(502), { keyed: true }),
    {},
    { action: 'retry', delayMs: 1000 },
  ],
  [
    'a keyed POST answered 500 is not re-sent (the server processed it)',
    post(http(500), { keyed: true }),
    {},
    { action: 'fail', code: 'http-status' },
  ],
  [
    'a keyed POST stream that opened and dropped with nowhere to resume fails',
    post(network, { keyed: true, opened: true }),
    {},
    { action: 'fail', code: 'resume-failed' },
  ],
  [
    'a keyed POST that got no response gives up after maxAttempts',
    post(network, { keyed: true, attempt: 10 }),
    {},
    { action: 'fail', code: 'retries-exhausted' },
  ],
  [
    'a refresh after maxAttempts refreshes without an event gives up',
    facts(authExpired, { attempt: 11 }),
    refreshing,
    { action: 'fail', code: 'retries-exhausted' },
  ],
  [
    'a POST answered 401 refreshes, then is re-sent',
    post(fail('auth', { status: 401 })),
    refreshing,
    { action: 'refresh', reason: 'unauthorized' },
  ],
  [
    'a POST stream that opened and dropped with nowhere to resume fails',
    post(network, { opened: true }),
    {},
    { action: 'fail', code: 'resume-failed' },
  ],
  [
    'an opened POST stream with nowhere to resume does not refresh on auth-expired',
    post(authExpired, { opened: true }),
    refreshing,
    { action: 'fail', code: 'resume-failed' },
  ],
  [
    'the last of maxAttempts gives up',
    facts(network, { attempt: 10 }),
    {},
    { action: 'fail', code: 'retries-exhausted' },
  ],
  [
    'an attempt that would start after maxElapsedMs gives up',
    facts(network, { elapsedMs: 4500, attempt: 2 }),
    { maxElapsedMs: 6000 },
    { action: 'fail', code: 'retries-exhausted' },
  ],
]

describe('decideRetry', () => {
  it.each(table)('%s', (_, given, options, expected) => {
    const decision = decideRetry(given, options)
    const seen =
      decision.action === 'refresh'
        ? { action: decision.action, reason: decision.reason }
        : {
            action: decision.action,
            ...(expected.code && { code: decision.error.code }),
            ...(expected.delayMs !== undefined && { delayMs: decision.delayMs }),
          }
    expect(seen).toEqual(expected)
  })

  it('keeps the failure as the cause of the error it reports instead', () => {
    const decision = decideRetry(post(network), {})
    expect(decision).toMatchObject({ error: { cause: network } })
    expect(decision.action === 'fail' && decision.error.message).toMatch(/nothing ran twice/)
  })

  it('still returns its delay when it fails, for shouldRetry to use', () => {
    expect(decideRetry(facts(http(400, false)), {})).toMatchObject({ delayMs: 1000 })
  })
})
