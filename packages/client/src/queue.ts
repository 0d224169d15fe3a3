/**
 * The buffer behind `for await`: pushes between pulls are kept in order, and the end (or the
 * error) comes after everything buffered. It buffers nothing until an iterator exists, so a
 * callback-only stream does not grow memory.
 */
export const createQueue = <T>(onReturn: () => void) => {
  const buffer: T[] = []
  let pull: ((result: IteratorResult<T>) => void) | undefined
  let failPull: ((error: unknown) => void) | undefined
  let active = false
  let ended = false
  let failure: unknown
  const done = { done: true, value: undefined } as const
  const iterator: AsyncIterableIterator<T> = {
    next() {
      const value = buffer.shift()
      if (value !== undefined) return Promise.resolve({ done: false, value })
      if (failure) {
        const error = failure
        failure = undefined
        return Promise.reject(error)
      }
      if (ended) return Promise.resolve(done)
      return new Promise((resolve, reject) => {
        pull = resolve
        failPull = reject
      })
    },
    return() {
      onReturn()
      return Promise.resolve(done)
    },
    [Symbol.asyncIterator]() {
      return iterator
    },
  }
  return {
    iterator() {
      active = true
      return iterator
    },
    push(value: T) {
      if (!active || ended) return
      if (pull) pull({ done: false, value })
      else buffer.push(value)
      pull = undefined
    },
    /** Ends the iteration; an `error` is thrown by the pull after the buffered values. */
    end(error?: unknown) {
      if (ended) return
      ended = true
      if (pull && error) failPull?.(error)
      else if (pull) pull(done)
      else failure = error
      pull = undefined
    },
  }
}
