// `abandonAfterMs`: a generation nobody reads stops costing money once nobody has read it a while.
import { unref } from './keepalive'
import type { EventWriter } from './types'

/** Watches the streams produced in this process for connections of this process reading them. */
export interface AbandonWatch {
  /** A producer started here: watched until `ended`, abandoned if nobody reads it in time. */
  started(streamId: string): void
  /** A connection of this process reads `streamId`, until its writer closes. */
  attached(streamId: string, writer: EventWriter): void
  ended(streamId: string): void
}

interface Watched {
  readers: number
  timer: ReturnType<typeof setTimeout> | undefined
}

/**
 * With `afterMs` undefined nothing is watched. Readers on other instances sharing the log are not
 * seen from here: the option suits deployments whose resumes come back to the producing instance.
 */
export function createAbandonWatch(
  afterMs: number | undefined,
  abandon: (streamId: string) => void,
): AbandonWatch {
  const watched = new Map<string, Watched>()

  const arm = (streamId: string, entry: Watched) => {
    if (afterMs === undefined) return
    entry.timer = setTimeout(abandon, afterMs, streamId)
    unref(entry.timer)
  }

  return {
    started(streamId) {
      if (afterMs === undefined) return
      const entry: Watched = { readers: 0, timer: undefined }
      watched.set(streamId, entry)
      arm(streamId, entry)
    },
    attached(streamId, writer) {
      const entry = watched.get(streamId)
      if (entry === undefined || writer.closed) return
      entry.readers += 1
      clearTimeout(entry.timer)
      writer.signal.addEventListener(
        'abort',
        () => {
          entry.readers -= 1
          if (entry.readers === 0 && watched.get(streamId) === entry) arm(streamId, entry)
        },
        { once: true },
      )
    },
    ended(streamId) {
      clearTimeout(watched.get(streamId)?.timer)
      watched.delete(streamId)
    },
  }
}
