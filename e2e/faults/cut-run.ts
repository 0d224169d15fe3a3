import { createEventStream } from '@unbroken/client'
import type { FaultProxy } from '@unbroken/test-kit'
import { createRandom } from '@unbroken/test-kit'
import { type ComparableEvent, describeFirstDifference } from '../support/compare'
import { collect } from '../support/read'
import { type CutPlanner, RUN_HEADER } from './cut-planner'

// A run that has not ended by then hangs: it fails, naming its seed, instead of stalling the suite.
const RUN_TIMEOUT_MS = 30_000

export type CutRunOptions = {
  readonly scenario: string
  readonly seed: number
  readonly proxy: FaultProxy
  readonly planner: CutPlanner
  /** Where the run starts: a stream URL to GET, or the POST endpoint that starts a producer. */
  readonly url: string
  readonly method: 'GET' | 'POST'
  /** The events the run must deliver, given the stream URL it ended on. */
  readonly reference: (streamUrl: string) => Promise<readonly ComparableEvent[]>
}

export type CutRunResult = {
  readonly seed: number
  readonly plannedCuts: number
  /** Connections of this run the proxy cut. */
  readonly cuts: number
  readonly reconnects: number
  readonly events: number
  /** Scenario, seed and first differing event; undefined when the run delivered the source exactly. */
  readonly failure: string | undefined
}

/**
 * One seeded run: a client reads a resumable stream through the fault proxy, whose plan cuts
 * this run's first 1–3 connections at random byte offsets. The delivered sequence must equal the
 * reference exactly: no gap, no duplicate, no corrupted character, and a clean `done`.
 */
export async function cutRun(options: CutRunOptions): Promise<CutRunResult> {
  const { scenario, seed, proxy, planner } = options
  const runId = String(seed)
  const { cuts: plannedCuts } = planner.add(runId, seed)
  const stream = createEventStream(`${proxy.origin}${new URL(options.url).pathname}`, {
    method: options.method,
    headers: { [RUN_HEADER]: runId },
    backoff: { initialMs: 0 },
    maxAttempts: 8,
    idleTimeoutMs: 10_000,
    random: createRandom(seed),
  })
  try {
    const { events, snapshot, error } = await collect(stream, {
      timeoutMs: RUN_TIMEOUT_MS,
      what: `${scenario}, seed ${seed}`,
    })
    const expected = await options.reference(snapshot.url)
    const ending = `ended with ${snapshot.closeReason} (${String(error)}) after ${snapshot.reconnects} reconnects`
    const difference = describeFirstDifference({ scenario, seed }, expected, events)
    let failure = difference && `${difference}\n  ${ending}`
    if (failure === undefined && snapshot.closeReason !== 'done') {
      failure = `${scenario}, seed ${seed}: ${ending} instead of done`
    }
    const cuts = proxy.connections.filter(
      (c) => c.cut && c.head?.headers[RUN_HEADER] === runId,
    ).length
    return {
      seed,
      plannedCuts,
      cuts,
      reconnects: snapshot.reconnects,
      events: events.length,
      failure,
    }
  } catch (error) {
    return { seed, plannedCuts, cuts: 0, reconnects: 0, events: 0, failure: String(error) }
  } finally {
    planner.delete(runId)
  }
}
