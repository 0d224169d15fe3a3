/**
 * The request that (re-)attaches to a stream: a `GET` of its `Content-Location` once the server
 * answered; until then the `POST` itself, with the same `Idempotency-Key`, which a server that
 * honours it (agreement A4) attaches to the same generation instead of starting another.
 */
export interface StreamRequest {
  readonly url: string
  /** Absent for the `GET` of a known stream. */
  readonly method?: string | undefined
  /** Only a text body can be saved. */
  readonly body?: string | undefined
  readonly idempotencyKey?: string | undefined
}

/** What a reload needs to re-attach to a stream: the request, how far the state got, the state. */
export interface SavedStream<S> extends StreamRequest {
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
    // Only what `storeStream` writes: an entry edited by hand or by another script is ignored,
    // rather than re-attached from (a line break in the id or key would make every request throw;
    // a method or body of another type would be sent as garbage).
    return [
      saved?.url,
      saved.lastEventId,
      saved.method ?? '',
      saved.body ?? '',
      saved.idempotencyKey ?? '',
    ].every((text) => typeof text === 'string') &&
      !/[\0\r\n]/.test(saved.lastEventId + saved.idempotencyKey) &&
      'state' in saved
      ? saved
      : undefined
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
