import { formatEvent } from '@unbroken/server'
import type { FaultPlan, RequestHead } from '@unbroken/test-kit'
import { createRandom, randomInt } from '@unbroken/test-kit'
import type { ComparableEvent } from '../support/compare'

/** The request header that tells the shared fault proxy which run a connection belongs to. */
export const RUN_HEADER = 'x-run'

// A POST cut before its response head would leave the client without Content-Location, which it
// rightly refuses to re-POST (a second generation): such runs test nothing about resuming.
const MIN_POST_CUT = 1024
// A chunked response ends with 7 bytes of framing after its last event (`\r\n0\r\n\r\n`).
// Holding back one more keeps the final byte of `done` from the client: the cut is one it must
// resume from, and it cannot see `done` and close the connection before the proxy cuts it.
const MIN_CUT_BEFORE_END = 8

/** Bytes a connection resuming after `lastEventId` will carry, from the stream's reference events. */
export function remainingBytes(
  reference: readonly ComparableEvent[],
): (lastEventId: string | undefined) => number {
  const suffix = new Map<string | undefined, number>()
  let total = 0
  for (let i = reference.length - 1; i >= 0; i--) {
    const { type, id, data } = reference[i] as ComparableEvent
    total += Buffer.byteLength(formatEvent({ id, event: type, data }))
    suffix.set(reference[i - 1]?.id, total)
  }
  return (lastEventId) => suffix.get(lastEventId) ?? 0
}

type Run = { readonly cuts: number; readonly random: () => number; connections: number }

export type CutPlanner = {
  /** Registers a run: its seed decides how many connections are cut (1–3) and where. */
  add(runId: string, seed: number): { cuts: number }
  delete(runId: string): void
  /** The fault proxy's plan function. */
  plan(connection: { head: RequestHead | undefined }): FaultPlan
}

/**
 * Seeded cut plans for many concurrent runs through one fault proxy: each of a run's first 1–3
 * connections is cut at a random byte offset of what that connection would carry (its events,
 * known from its `Last-Event-ID`), so every planned cut really happens, anywhere: in the head,
 * mid-event, mid-character, inside `done`. Offsets in the first half count from the start, the
 * rest from the end: the response head and chunk framing the events do not count would otherwise
 * leave the last few hundred bytes (the terminal event among them) out of reach.
 */
export function createCutPlanner(
  bytesAfter: (lastEventId: string | undefined) => number,
): CutPlanner {
  const runs = new Map<string, Run>()
  return {
    add(runId, seed) {
      const random = createRandom(seed)
      const cuts = randomInt(random, 1, 3)
      runs.set(runId, { cuts, random, connections: 0 })
      return { cuts }
    },
    delete(runId) {
      runs.delete(runId)
    },
    plan({ head }) {
      const run = head && runs.get(head.headers[RUN_HEADER] ?? '')
      if (!head || !run || run.connections >= run.cuts) return {}
      run.connections++
      const min = head.method === 'POST' ? MIN_POST_CUT : 0
      const length = Math.max(min + 1, bytesAfter(head.headers['last-event-id']))
      const offset = randomInt(run.random, min, length - 1)
      if (offset < length / 2) return { cutAt: offset }
      return { cutBeforeEnd: Math.max(MIN_CUT_BEFORE_END, length - offset) }
    },
  }
}
