/**
 * Rendering helpers for the hook tests: a commit counter (React's `<Profiler>`), a frame counter
 * (the page's own animation frames), and a `fetch` that counts the body bytes it hands over.
 */
import { Profiler, type ReactNode } from 'react'

export interface Commits {
  count: number
}

/** Counts React commits of `children` (mount and updates). */
export function Counted({ commits, children }: { commits: Commits; children: ReactNode }) {
  return (
    <Profiler id="counted" onRender={() => void commits.count++}>
      {children}
    </Profiler>
  )
}

/** Counts animation frames from now until `stop()`. */
export function countFrames() {
  let frames = 0
  let running = true
  const tick = () => {
    if (!running) return
    frames++
    requestAnimationFrame(tick)
  }
  requestAnimationFrame(tick)
  return {
    get frames() {
      return frames
    },
    stop() {
      running = false
    },
  }
}

/** A `fetch` that counts the response body bytes read through it (keepalives included). */
export function countingFetch() {
  const counter = {
    bytes: 0,
    fetch: async (input: RequestInfo | URL, init?: RequestInit) => {
      const response = await fetch(input, init)
      const counted = response.body?.pipeThrough(
        new TransformStream<Uint8Array, Uint8Array>({
          transform(chunk, controller) {
            counter.bytes += chunk.length
            controller.enqueue(chunk)
          },
        }),
      )
      return new Response(counted, response)
    },
  }
  return counter
}
