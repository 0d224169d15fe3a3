/**
 * One shared keepalive clock per interval for every open connection, instead of a timer per
 * connection: with thousands of idle streams, N timers cost N wake-ups, this costs one.
 */

/** What the clock needs from a writer: when it last wrote, and how to send a heartbeat. */
export interface KeepAliveMember {
  /** The bucket's `tick` at this member's last write. */
  lastWriteTick: number
  /** Writes a heartbeat comment unless the connection is closed or backpressured. */
  keepAlive(): void
}

/** One interval's clock. Writers stamp `tick` on every write, so a busy stream never gets a heartbeat. */
export interface KeepAliveBucket {
  readonly tick: number
}

/** Registry of buckets, one per distinct `keepAliveMs` (in practice one per hub). */
export interface KeepAlive {
  add(member: KeepAliveMember, intervalMs: number): KeepAliveBucket
  remove(member: KeepAliveMember, bucket: KeepAliveBucket): void
}

// Ticking four times per interval and firing after four silent ticks keeps the silence between
// 3/4 and 4/4 of keepAliveMs: never longer than promised, with no per-write clock read.
const TICKS_PER_INTERVAL = 4

interface Bucket extends KeepAliveBucket {
  tick: number
  readonly intervalMs: number
  readonly members: Set<KeepAliveMember>
  timer: ReturnType<typeof setInterval> | undefined
}

/** Creates the shared clock. Timers are unref'd, so open streams alone never keep a process alive. */
export function createKeepAlive(): KeepAlive {
  const buckets = new Map<number, Bucket>()

  function run(bucket: Bucket): void {
    bucket.tick++
    for (const member of bucket.members) {
      if (bucket.tick - member.lastWriteTick >= TICKS_PER_INTERVAL) member.keepAlive()
    }
  }

  return {
    add(member, intervalMs) {
      let bucket = buckets.get(intervalMs)
      if (bucket === undefined) {
        bucket = { tick: 0, intervalMs, members: new Set(), timer: undefined }
        buckets.set(intervalMs, bucket)
      }
      if (bucket.timer === undefined) {
        const target = bucket
        target.timer = setInterval(
          () => run(target),
          Math.max(1, Math.floor(intervalMs / TICKS_PER_INTERVAL)),
        )
        unref(target.timer)
      }
      member.lastWriteTick = bucket.tick
      bucket.members.add(member)
      return bucket
    },
    remove(member, handle) {
      const bucket = buckets.get((handle as Bucket).intervalMs)
      if (bucket === undefined || !bucket.members.delete(member) || bucket.members.size > 0) return
      clearInterval(bucket.timer)
      bucket.timer = undefined
    },
  }
}

/** `unref` where the runtime has it (Node, Bun, Deno); browsers and workers return a number. */
export function unref(timer: unknown): void {
  ;(timer as { unref?: () => void }).unref?.()
}
