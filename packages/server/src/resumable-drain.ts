// The registry's connections and its graceful shutdown (protocol v1 §10, agreement A7).

import { unref } from './keepalive'
import type { EventLog } from './log'
import type { ProducerRunner } from './resumable-producer'
import type { DrainOptions } from './resumable-types'
import { count, delay } from './settings'
import type { EventHub, EventWriter } from './types'
import { StreamWriter } from './writer'

// How long the readers of streams a shutdown stopped get to receive their final `producer-lost`.
const STOPPED_GRACE_MS = 1000

/** What `drain` winds down: the runner, and the hub and log only when the registry created them. */
export interface DrainTargets {
  readonly runner: ProducerRunner
  readonly ownHub: EventHub | undefined
  readonly ownLog: EventLog | undefined
}

/** A registry's open connections and its one shutdown. */
export interface Shutdown {
  /** Counts a connection of this registry until it closes. */
  track(writer: EventWriter): void
  /** True from the first `drain` on: no new stream may start. */
  readonly draining: boolean
  /** Starts the shutdown once; every call returns the same promise. */
  drain(options?: DrainOptions): Promise<void>
}

export function createShutdown(targets: DrainTargets): Shutdown {
  const { runner, ownHub, ownLog } = targets
  const connections = new Set<EventWriter>()
  let drained: Promise<void> | undefined

  /** Closes every open connection with a jittered `retry:` and no terminal event. */
  const handOff = (jitterMs: number) => {
    for (const writer of connections) {
      const jitter = Math.floor(Math.random() * (jitterMs + 1))
      if (writer instanceof StreamWriter) writer.handOff(jitter)
      else writer.close('shutdown')
    }
  }

  const allClosed = () => Promise.all([...connections].map((writer) => aborted(writer.signal)))

  const run = async (deadlineMs: number, jitterMs: number) => {
    const deadline = Date.now() + deadlineMs
    // Readers reconnect now, elsewhere when there is an elsewhere, so they do not all wait for
    // the deadline; the ones that come back here are served only what ends here (see `get`).
    handOff(jitterMs)
    await within(runner.idle(), deadlineMs)
    // Every producer ended (or the deadline came): their readers' relays send the end, then close.
    await within(allClosed(), Math.max(0, deadline - Date.now()))
    await runner.stopAll()
    await within(allClosed(), STOPPED_GRACE_MS)
    handOff(jitterMs)
    await ownHub?.closeAll({ reason: 'shutdown', deadlineMs: STOPPED_GRACE_MS })
    await ownLog?.close()
  }

  return {
    track(writer) {
      connections.add(writer)
      writer.signal.addEventListener('abort', () => connections.delete(writer), { once: true })
    },
    get draining() {
      return drained !== undefined
    },
    drain(options = {}) {
      drained ??= run(
        delay('deadlineMs', options.deadlineMs ?? 10_000),
        count('retryJitterMs', options.retryJitterMs ?? 5000),
      )
      return drained
    },
  }
}

/** Resolves when `done` does, or after `ms`, whichever comes first. */
async function within(done: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms)
    unref(timer)
  })
  await Promise.race([done, deadline])
  clearTimeout(timer)
}

function aborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve()
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }))
}
