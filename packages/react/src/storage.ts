/** What a reload needs to re-attach to a stream: where it is, how far the state got, the state. */
export interface SavedStream<S> {
  /** The stream's `Content-Location`, resolved. */
  readonly url: string
  /** The id of the last event folded into `state` ('' before the first: replay from the start). */
  readonly lastEventId: string
  readonly state: S
}

// sessionStorage may be missing (SSR, workers) or throw (storage disabled, quota exceeded):
// persistence is then off, and the stream itself carries on.

/** The stream saved under `id`, if any. */
export const loadStream = <S>(id: string | undefined): SavedStream<S> | undefined => {
  try {
    const saved = id && JSON.parse(sessionStorage.getItem(`unbroken:${id}`) as string)
    return typeof saved?.url === 'string' ? saved : undefined
  } catch {}
}

/** Saves a stream under `id`, or forgets it (`undefined`); without an `id`, does nothing. */
export const storeStream = <S>(id: string | undefined, saved?: SavedStream<S>): void => {
  try {
    if (!id) return
    if (saved) sessionStorage.setItem(`unbroken:${id}`, JSON.stringify(saved))
    else sessionStorage.removeItem(`unbroken:${id}`)
  } catch {}
}
