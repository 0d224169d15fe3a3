// How many streams run in this process, in all and per principal, and when one more may start.
import { UnbrokenServerError } from './errors'

/** The limits a registry admits streams under. */
export interface AdmissionLimits {
  /** Streams running (or being created) in this process at once. */
  readonly total: number
  /** Of those, for one principal; anonymous streams count only against `total`. */
  readonly perPrincipal: number
}

/** A place taken by a stream from its admission to its end; `release` gives it back, once. */
export type Release = () => void

export interface Admission {
  /** Takes a place for a stream of `principal`, or throws `stream-limit` (answered 429). */
  admit(principal: string | undefined): Release
}

export function createAdmission(limits: AdmissionLimits): Admission {
  let total = 0
  const byPrincipal = new Map<string, number>()
  return {
    admit(principal) {
      if (total >= limits.total) {
        throw new UnbrokenServerError(
          'stream-limit',
          'The server is running as many streams as it can; try again shortly.',
        )
      }
      const own = principal === undefined ? 0 : (byPrincipal.get(principal) ?? 0)
      if (principal !== undefined && own >= limits.perPrincipal) {
        throw new UnbrokenServerError(
          'stream-limit',
          `You are running ${own} streams, as many as one caller may; try again when one ends.`,
        )
      }
      total += 1
      if (principal !== undefined) byPrincipal.set(principal, own + 1)
      let released = false
      return () => {
        if (released) return
        released = true
        total -= 1
        if (principal === undefined) return
        const left = (byPrincipal.get(principal) ?? 1) - 1
        if (left === 0) byPrincipal.delete(principal)
        else byPrincipal.set(principal, left)
      }
    },
  }
}
