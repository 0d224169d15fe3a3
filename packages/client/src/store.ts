import type { EventStreamSnapshot } from './types'

/**
 * The snapshot store behind `subscribe`/`getSnapshot`, shaped for `useSyncExternalStore`. It starts
 * as a stream that is connecting to `url`, resuming after `lastEventId`.
 */
export const createStore = (url: string, lastEventId: string) => {
  let snapshot: EventStreamSnapshot = Object.freeze({
    status: 'connecting',
    lastEventId,
    url,
    attempt: 0,
    error: undefined,
    closeReason: undefined,
    events: 0,
    replayed: 0,
    bytes: 0,
    reconnects: 0,
    timeToFirstByteMs: undefined,
  })
  const listeners = new Set<() => void>()
  return {
    get: () => snapshot,
    /**
     * Replaces the snapshot (a new frozen object) and tells every listener, unless no field
     * changes: then the snapshot stays the same object, so `useSyncExternalStore` renders nothing.
     */
    set(patch: Partial<EventStreamSnapshot>) {
      const same = Object.entries(patch).every(
        ([key, value]) => value === snapshot[key as keyof EventStreamSnapshot],
      )
      if (same) return
      snapshot = Object.freeze({ ...snapshot, ...patch })
      for (const listener of listeners) {
        try {
          listener()
        } catch {
          // A UI binding's bug must not stop the stream or the other listeners.
        }
      }
    },
    subscribe(listener: () => void) {
      listeners.add(listener)
      return () => {
        listeners.delete(listener)
      }
    },
  }
}
