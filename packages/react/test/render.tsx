/**
 * Rendering helpers for the hook tests: a commit counter (React's `<Profiler>`), a frame counter
 * (the page's own animation frames), and a `fetch` that counts the body bytes it hands over.
 */
import { render } from '@testing-library/react'
import { Profiler, type ReactNode, StrictMode } from 'react'

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

/** The latest value a hook returned, read by the test between renders. */
export interface Latest<T> {
  readonly current: T
  readonly commits: Commits
}

function Probe<T>({ useHook, latest }: { useHook: () => T; latest: { current: T } }) {
  latest.current = useHook()
  return null
}

/**
 * Renders `useHook()` in a component (inside StrictMode when asked) and keeps what it returned.
 * The hook runs once per render; the component shows nothing, so commits count the hook's renders.
 */
export function renderHookCounted<T>(useHook: () => T, { strict = false } = {}) {
  const latest = { current: undefined as T, commits: { count: 0 } }
  const tree = (
    <Counted commits={latest.commits}>
      <Probe useHook={useHook} latest={latest} />
    </Counted>
  )
  const view = render(strict ? <StrictMode>{tree}</StrictMode> : tree)
  return { latest: latest as Latest<T>, unmount: view.unmount }
}
