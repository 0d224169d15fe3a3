import { createStreamSession, requestKeyOf, type StreamSession } from '@unbroken/client/store'
import { useCallback, useRef, useState, useSyncExternalStore } from 'react'
import type {
  EventStreamControls,
  EventStreamRequest,
  EventStreamView,
  UseEventStreamOptions,
} from './types'

/** The shared core of both hooks: one session per component, rendered through the React store API. */
export function useStreamSession<S>(
  request: EventStreamRequest | null,
  options: UseEventStreamOptions<S>,
): [EventStreamView<S>, StreamSession<S>] {
  // The latest render's options, read by the session when it needs them (no stale callbacks).
  const latest = useRef(options)
  latest.current = options
  const [session] = useState(() => createStreamSession(() => latest.current))
  const key = requestKeyOf(request)
  const subscribe = useCallback(
    (listener: () => void) => session.subscribe(key, listener),
    [session, key],
  )
  const snapshot = useSyncExternalStore(subscribe, session.getSnapshot, session.getServerSnapshot)
  return [snapshot, session]
}

/**
 * Reads a Server-Sent Events stream into React state: every event is folded by `reducer` as it
 * arrives, and the component renders at most once per animation frame. `null` connects nothing.
 * Safe under StrictMode (one request per stream); unmounting disconnects without stopping.
 */
export function useEventStream<S>(
  request: EventStreamRequest | null,
  options: UseEventStreamOptions<S>,
): EventStreamControls<S> {
  const [view, session] = useStreamSession(request, options)
  return { ...view, stop: session.stop, retry: session.retry }
}
