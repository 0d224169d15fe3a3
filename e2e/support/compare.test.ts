import { describe, expect, it } from 'vitest'
import { assertSameEvents, firstDifference } from './compare'

const a = { type: 'message', id: '1', data: 'héllo' }
const b = { type: 'message', id: '2', data: 'wörld' }

describe('event comparison', () => {
  it('finds no difference between equal sequences', () => {
    expect(firstDifference([a, b], [a, b])).toBeUndefined()
  })

  it('finds a missing tail event', () => {
    expect(firstDifference([a, b], [a])).toEqual({ index: 1, expected: b, got: undefined })
  })

  it('finds a corrupted character', () => {
    const corrupted = { ...b, data: 'w\uFFFDrld' }
    expect(firstDifference([a, b], [a, corrupted])?.index).toBe(1)
  })

  it('names the scenario, the seed and the first differing event', () => {
    expect(() => assertSameEvents({ scenario: 'cut twice', seed: 42 }, [a, b], [a, a])).toThrow(
      /cut twice, seed 42 .*event #1[\s\S]*expected: .*"id":"2"[\s\S]*got: .*"id":"1"/,
    )
  })
})
