/**
 * The buffer behind `for await`: pushes between pulls are kept in order, and the end (or the
 * error) comes after everything buffered. It buffers nothing until an iteration starts, so a
 * callback-only stream does not grow memory. Leaving the loop early (`break`) calls `onReturn`.
 * `drained()` lets the producer wait for a slow loop instead of buffering without bound.
 */
export const createQueue = <T>(onReturn: () => void) => {
  const buffer: T[] = []
  let active = false
  let ended = false
  let failure: unknown
  let wake = () => {}
  let resume = () => {}
  async function* pull(): AsyncGenerator<T, void, undefined> {
    try {
      for (;;) {
        while (buffer.length) {
          const value = buffer.shift() as T
          if (!buffer.length) resume()
          yield value
        }
        if (failure) throw failure
        if (ended) return
        await new Promise<void>((resolve) => {
          wake = resolve
        })
      }
    } finally {
      onReturn()
    }
  }
  return {
    /** Whether a `for await` loop is reading (and so waiting on) the stream. */
    get active() {
      return active
    },
    iterator() {
      // Buffering starts here, not at the first next(): nothing pushed in between is lost.
      active = true
      return pull()
    },
    push(value: T) {
      if (active && !ended) buffer.push(value)
      wake()
    },
    /**
     * Resolves once the loop has taken every buffered value, or the queue ended; `undefined` when
     * nothing is buffered, so a producer that a fast loop keeps up with never waits.
     */
    drained(): Promise<void> | undefined {
      return buffer.length
        ? new Promise<void>((resolve) => {
            resume = resolve
          })
        : undefined
    },
    /**
     * Ends the iteration; an `error` is thrown after the buffered values, unless `discard` drops
     * them first (an abort means "deliver nothing more", even what one chunk already parsed).
     */
    end(error?: unknown, discard?: boolean) {
      if (ended) return
      ended = true
      failure = error
      if (discard) buffer.length = 0
      wake()
      resume()
    },
  }
}
