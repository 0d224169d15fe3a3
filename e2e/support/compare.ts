import { describeSeed } from '@unbroken/test-kit'

/** What the comparison sees of one event; peers and our client are all mapped to this shape. */
export type ComparableEvent = { readonly type: string; readonly id: string; readonly data: string }

export type Difference = {
  readonly index: number
  readonly expected: ComparableEvent | undefined
  readonly got: ComparableEvent | undefined
}

/** The first index where the two sequences differ (including one being longer), or undefined. */
export function firstDifference(
  expected: readonly ComparableEvent[],
  got: readonly ComparableEvent[],
): Difference | undefined {
  const length = Math.max(expected.length, got.length)
  for (let index = 0; index < length; index++) {
    const e = expected[index]
    const g = got[index]
    if (e?.type !== g?.type || e?.id !== g?.id || e?.data !== g?.data)
      return { index, expected: e, got: g }
  }
  return undefined
}

/** Where a failing run came from, so its message says how to replay it. */
export type Scenario = { readonly scenario: string; readonly seed?: number | undefined }

/**
 * Names the scenario, the seed and the first differing event, instead of a thousands-of-events
 * diff (point 7 of the e2e issue, "readable failures"); undefined when the sequences are equal.
 */
export function describeFirstDifference(
  { scenario, seed }: Scenario,
  expected: readonly ComparableEvent[],
  got: readonly ComparableEvent[],
): string | undefined {
  const difference = firstDifference(expected, got)
  if (difference === undefined) return undefined
  const seedText = seed === undefined ? '' : `, ${describeSeed(seed)}`
  return [
    `${scenario}${seedText}: first difference at event #${difference.index} (expected ${expected.length} events, got ${got.length})`,
    `  expected: ${show(difference.expected)}`,
    `  got:      ${show(difference.got)}`,
  ].join('\n')
}

/** Throws {@link describeFirstDifference}'s message when the sequences differ. */
export function assertSameEvents(
  where: Scenario,
  expected: readonly ComparableEvent[],
  got: readonly ComparableEvent[],
): void {
  const message = describeFirstDifference(where, expected, got)
  if (message !== undefined) throw new Error(message)
}

function show(event: ComparableEvent | undefined): string {
  if (event === undefined) return '(nothing)'
  const data = event.data.length > 200 ? `${event.data.slice(0, 200)}…` : event.data
  return JSON.stringify({ type: event.type, id: event.id, data })
}
