/** Redis key names of one log; every instance sharing streams must use the same `keyPrefix`. */
export interface Keys {
  /** The stream of events, plus `open` and terminal marker entries. */
  stream(streamId: string): string
  /** Hash: status, meta JSON, owner instance, createdAt, byte count, oldest seq kept. */
  meta(streamId: string): string
  /** The producer's heartbeat: exists while the owner is alive, expires `leaseMs` after it dies. */
  lease(streamId: string): string
  /** Set by `cancel`, so an owner that missed the mailbox message still sees it on its heartbeat. */
  cancel(streamId: string): string
  /** A per-instance stream that wakes its blocking tail and carries cancel requests to it. */
  mailbox(instanceId: string): string
}

export function createKeys(prefix: string): Keys {
  return {
    stream: (streamId) => `${prefix}${streamId}`,
    meta: (streamId) => `${prefix}${streamId}:meta`,
    lease: (streamId) => `${prefix}${streamId}:lease`,
    cancel: (streamId) => `${prefix}${streamId}:cancel`,
    mailbox: (instanceId) => `${prefix}instance:${instanceId}:mailbox`,
  }
}

/** The four keys of a stream in the order every script takes them. */
export function streamKeys(keys: Keys, streamId: string): string[] {
  return [keys.stream(streamId), keys.meta(streamId), keys.lease(streamId), keys.cancel(streamId)]
}
