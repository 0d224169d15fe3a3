/**
 * Event ids are Redis stream ids `0-<seq>`: every stream is written with `XADD key 0-*`, so Redis
 * numbers entries 1, 2, 3… with no holes. A reader can then prove it missed nothing (each entry's
 * seq is its cursor + 1) and tell a trimmed cursor from a valid one without scanning.
 */

/** Parses an id this log issued; `undefined` for anything else (a foreign or forged cursor). */
export function seqOf(id: string): number | undefined {
  const match = /^0-(0|[1-9]\d{0,14})$/.exec(id)
  return match?.[1] === undefined ? undefined : Number(match[1])
}

/** The stream id of the entry numbered `seq`. */
export function idOf(seq: number): string {
  return `0-${seq}`
}

/**
 * The log's `startId`: entry 1 is the `open` marker that `create` writes, so reading after it
 * starts at the first event, and `cursor-expired` once trimming has passed that event.
 */
export const START_ID = '0-1'
