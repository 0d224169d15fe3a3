import { describe, expect, it } from 'vitest'
import { createTokenEstimate, estimateTokens } from './estimate'

describe('estimateTokens', () => {
  it('counts four ASCII characters as one token, rounding up', () => {
    expect(estimateTokens('abcdefghi')).toBe(3)
  })

  it('counts each non-ASCII code point as one token, a surrogate pair (emoji) included', () => {
    expect(estimateTokens('日本🚀é')).toBe(4)
  })

  it('rounds once over pieces, not once per piece', () => {
    const estimate = createTokenEstimate()
    for (const piece of ['ab', 'cd', 'e', '🚀']) estimate.add(piece)
    expect(estimate.tokens).toBe(3)
  })
})
