import type { EventStreamSnapshot } from './types'

/** The snapshot store behind `subscribe`/`getSnapshot`, shaped for `useSyncExternalStore`. */
export const createStore = (initial: EventStreamSnapshot) => {
  let snapshot = Object.freeze(initial)
  const listeners = new Set<() => void>()
  return {
    get: () => snapshot,
    /** Replaces the snapshot (a new frozen object) and tells every listener. */
    set(patch: Partial<EventStreamSnapshot>) {
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
