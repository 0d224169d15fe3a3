import { describe, expect, it } from 'vitest'
import { MAX_DELAY_MS, resolveSettings } from './settings'

describe('resolveSettings', () => {
  it.each(['keepAliveMs', 'drainTimeoutMs', 'maxDurationMs'] as const)(
    'refuses a %s longer than a timer can wait, which would fire at once',
    (name) => {
      expect(() => resolveSettings({ [name]: MAX_DELAY_MS + 1 }, undefined)).toThrow(
        expect.objectContaining({ code: 'invalid-argument' }),
      )
      expect(resolveSettings({ [name]: MAX_DELAY_MS }, undefined)[name]).toBe(MAX_DELAY_MS)
    },
  )

  it('refuses a cursor that would break out of its id-only block', () => {
    expect(() => resolveSettings({}, { cursor: '1\ndata: forged' })).toThrow(
      expect.objectContaining({ code: 'invalid-argument' }),
    )
  })

  it('writes the cursor block after the opening', () => {
    expect(resolveSettings({ retryMs: 500 }, { cursor: '0-1' }).opening).toBe(
      ': ok\nretry: 500\nid: 0-1\n\n',
    )
  })
})
