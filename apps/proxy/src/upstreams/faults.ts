// Faults the simulated model plays on request, so that every failure can be shown offline: by
// tests, by the demo, or by hand with curl. Chosen per request with one header:
//   x-unbroken-fault: slow-start=3000, cut-after=20
import { ProxyError } from '../errors'

/** The request header that selects faults. */
export const FAULT_HEADER = 'x-unbroken-fault'

/** What the simulated upstream does wrong; counts are answer tokens already sent. */
export interface Faults {
  /** Report an upstream error after this many tokens (like an in-stream error frame). */
  readonly errorAfter?: number | undefined
  /** Stop after this many tokens without the end marker (a truncated upstream). */
  readonly cutAfter?: number | undefined
  /** Go silent after this many tokens until aborted (a stalled upstream). */
  readonly stallAfter?: number | undefined
  /** Time to first token, in ms, instead of the configured one (a long prefill). */
  readonly slowStart?: number | undefined
}

const NAMES = {
  'error-after': 'errorAfter',
  'cut-after': 'cutAfter',
  'stall-after': 'stallAfter',
  'slow-start': 'slowStart',
} as const satisfies Record<string, keyof Faults>

/**
 * Parses the header: comma-separated `name=N`, each name at most once. Throws `invalid-request`
 * for anything else, because a mistyped fault that silently does nothing makes a test lie.
 */
export function parseFaults(header: string): Faults {
  const faults: Record<string, number> = {}
  for (const part of header.split(',')) {
    const match = /^\s*([a-z-]+)\s*=\s*(\d{1,9})\s*$/.exec(part)
    const name = match && Object.hasOwn(NAMES, match[1] as string) ? match[1] : undefined
    if (!match || name === undefined) {
      throw new ProxyError(
        'invalid-request',
        `${FAULT_HEADER}: expected name=N[, name=N] with names ${Object.keys(NAMES).join(', ')}; got ${JSON.stringify(part.trim())}`,
      )
    }
    const key = NAMES[name as keyof typeof NAMES]
    if (key in faults) {
      throw new ProxyError('invalid-request', `${FAULT_HEADER}: ${name} is given twice`)
    }
    faults[key] = Number(match[2])
  }
  return faults
}
