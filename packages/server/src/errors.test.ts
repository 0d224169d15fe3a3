import { describe, expect, it, vi } from 'vitest'
import { createErrorPayload, formatErrorData, statusOf, UnbrokenServerError } from './errors'

describe('UnbrokenServerError', () => {
  it('is retryable by code unless told otherwise', () => {
    expect(new UnbrokenServerError('log-unavailable', 'x').retryable).toBe(true)
    expect(new UnbrokenServerError('shutting-down', 'x').retryable).toBe(true)
    expect(new UnbrokenServerError('cursor-expired', 'x').retryable).toBe(false)
    expect(new UnbrokenServerError('log-unavailable', 'x', { retryable: false }).retryable).toBe(
      false,
    )
  })

  it('recognises an error thrown by another copy of the package, which instanceof does not', async () => {
    vi.resetModules()
    const copy = await import('./errors')
    const foreign = new copy.UnbrokenServerError('producer-lost', 'gone')
    expect(foreign instanceof UnbrokenServerError).toBe(false)
    expect(UnbrokenServerError.isInstance(foreign)).toBe(true)
    expect(createErrorPayload(foreign)).toEqual({
      code: 'producer-lost',
      message: 'gone',
      retryable: false,
    })
  })

  it('does not take an error of the same shape for one of its own', () => {
    const lookalike = Object.assign(new Error('m'), { code: 'log-unavailable', retryable: true })
    expect(UnbrokenServerError.isInstance(lookalike)).toBe(false)
    expect(UnbrokenServerError.isInstance(null)).toBe(false)
  })
})

describe('statusOf', () => {
  it.each([
    ['invalid-argument', 400],
    ['unauthenticated', 401],
    ['forbidden', 403],
    ['unknown-stream', 404],
    ['cursor-expired', 410],
    ['stream-limit', 429],
    ['internal-error', 500],
    ['log-unavailable', 503],
    ['shutting-down', 503],
    ['an-application-code', 500],
  ])('answers %s with %i', (code, status) => {
    expect(statusOf(code)).toBe(status)
  })
})

describe('createErrorPayload', () => {
  it('masks the message of an unexpected exception', () => {
    expect(createErrorPayload(new Error('password=hunter2'))).toEqual({
      code: 'internal-error',
      message: 'The stream failed unexpectedly.',
      retryable: false,
    })
  })

  it('exposes the message when asked', () => {
    expect(createErrorPayload(new Error('upstream 500'), { expose: true }).message).toBe(
      'upstream 500',
    )
  })

  it('passes an UnbrokenServerError through with its code, retryable and retryAfterMs', () => {
    const error = new UnbrokenServerError('log-unavailable', 'The event log is unavailable.', {
      retryAfterMs: 1500,
    })
    expect(createErrorPayload(error)).toEqual({
      code: 'log-unavailable',
      message: 'The event log is unavailable.',
      retryable: true,
      retryAfterMs: 1500,
    })
  })

  it('passes a payload-shaped object through, keeping retryAfterMs', () => {
    const payload = {
      code: 'rate-limited',
      message: 'slow down',
      retryable: true,
      retryAfterMs: 500,
      extra: 1,
    }
    expect(createErrorPayload(payload)).toEqual({
      code: 'rate-limited',
      message: 'slow down',
      retryable: true,
      retryAfterMs: 500,
    })
  })

  it('formats the payload as the JSON data line', () => {
    expect(formatErrorData('boom')).toMatchInlineSnapshot(
      `"{"code":"internal-error","message":"The stream failed unexpectedly.","retryable":false}"`,
    )
  })
})
