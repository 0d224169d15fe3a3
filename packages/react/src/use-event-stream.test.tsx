import { act, render, waitFor } from '@testing-library/react'
import type { ServerSentEvent } from '@unbroken/client'
import { listen } from '@unbroken/test-kit'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { expectedText, type LLMServer, startLLMServer, tokenText } from '../test/llm-server'
import {
  type Commits,
  Counted,
  countFrames,
  countingFetch,
  renderHookCounted,
} from '../test/render'
import type { EventStreamControls, EventStreamRequest, UseEventStreamOptions } from './index'
import { useEventStream } from './index'

let server: LLMServer
beforeEach(async () => {
  server = await startLLMServer()
})
afterEach(async () => {
  await server.close()
})

/** Concatenates `delta` texts: the smallest reducer that shows order, gaps and repeats. */
const options: UseEventStreamOptions<string> = {
  reducer: (text: string, event: ServerSentEvent) =>
    event.type === 'delta' ? text + JSON.parse(event.data).text : text,
  initialState: '',
}

const post = (ask: object): EventStreamRequest => ({
  url: server.api,
  method: 'POST',
  body: JSON.stringify(ask),
})

type Result = { current: EventStreamControls<string> | undefined; commits: Commits }

function Reader(props: {
  request: EventStreamRequest | null
  extra: Partial<UseEventStreamOptions<string>>
  result: Result
}) {
  props.result.current = useEventStream(props.request, { ...options, ...props.extra })
  return <p>{props.result.current.state}</p>
}

function mount(
  request: EventStreamRequest | null,
  extra: Partial<UseEventStreamOptions<string>> = {},
) {
  const result: Result = { current: undefined, commits: { count: 0 } }
  const tree = (next: EventStreamRequest | null) => (
    <Counted commits={result.commits}>
      <Reader request={next} extra={extra} result={result} />
    </Counted>
  )
  const view = render(tree(request))
  return { result, view, rerender: (next: EventStreamRequest | null) => view.rerender(tree(next)) }
}

const stream = (result: Result) => result.current as EventStreamControls<string>

it('folds every event into the state and returns the store snapshot with it', async () => {
  const { result } = mount(post({ tokens: 30 }))
  await waitFor(() => expect(stream(result).closeReason).toBe('done'))
  expect(stream(result)).toMatchObject({
    state: expectedText(30),
    status: 'closed',
    error: undefined,
  })
  // meta + 30 deltas + usage + done
  expect(stream(result).events).toBe(33)
  expect(stream(result).url).toMatch(/\/streams\/[\w-]+$/)
})

it('connects nothing for a null request and stays idle', async () => {
  const { result } = mount(null)
  await new Promise((resolve) => setTimeout(resolve, 50))
  expect(server.requests).toEqual([])
  expect(stream(result)).toMatchObject({ status: 'idle', state: '', events: 0 })
})

it('reads a plain URL with GET', async () => {
  const { result } = mount(post({ tokens: 5 }))
  await waitFor(() => expect(stream(result).closeReason).toBe('done'))
  const { result: second } = mount(stream(result).url)
  await waitFor(() => expect(stream(second).closeReason).toBe('done'))
  expect(stream(second).state).toBe(expectedText(5))
  expect(server.requests.map(({ method }) => method)).toEqual(['POST', 'GET'])
})

it('sends exactly one POST under StrictMode, whose double mount runs every effect twice', async () => {
  const request = post({ tokens: 10 })
  const { latest } = renderHookCounted(() => useEventStream(request, options), { strict: true })
  await waitFor(() => expect(latest.current.closeReason).toBe('done'))
  expect(latest.current.state).toBe(expectedText(10))
  expect(server.requests.map(({ method }) => method)).toEqual(['POST'])
})

it('starts a new stream for a new request and closes the old connection', async () => {
  const { result, rerender } = mount(post({ tokens: 10, holdAfter: 2 }))
  await waitFor(() => expect(stream(result).state).toBe(expectedText(2)))
  rerender(post({ tokens: 3 }))
  await waitFor(() => expect(stream(result).closeReason).toBe('done'))
  expect(stream(result).state).toBe(expectedText(3))
  await waitFor(() => expect(server.openConnections).toBe(0))
  expect(server.requests.map(({ method }) => method)).toEqual(['POST', 'POST'])
})

it('renders nothing for keepalives (bytes that change nothing)', async () => {
  await server.close()
  server = await startLLMServer({ keepAliveMs: 5 })
  const counter = countingFetch()
  const { result } = mount(post({ tokens: 4, holdAfter: 2 }), { fetch: counter.fetch })
  await waitFor(() => expect(stream(result).state).toBe(expectedText(2)))
  // Settle the frame that shows the two tokens, then watch a quiet stream that only keeps alive.
  await new Promise((resolve) => setTimeout(resolve, 50))
  const [commits, bytes] = [result.commits.count, counter.bytes]
  await waitFor(() => expect(counter.bytes).toBeGreaterThan(bytes + 100))
  expect(result.commits.count).toBe(commits)
  server.release()
  await waitFor(() => expect(stream(result).closeReason).toBe('done'))
})

it('commits at most once per animation frame however fast events arrive', async () => {
  const frames = countFrames()
  // One event per macrotask (a pause between tokens), each its own network read.
  const { result } = mount(post({ tokens: 300, pauseMs: 1 }))
  await waitFor(() => expect(stream(result).closeReason).toBe('done'), { timeout: 10_000 })
  frames.stop()
  expect(stream(result).state).toBe(expectedText(300))
  // The mount, the first published snapshot, then at most one per frame.
  expect(result.commits.count).toBeLessThanOrEqual(frames.frames + 2)
})

it('renders a burst of 10,000 events in a few frames, with no update-depth error', async () => {
  const errors = vi.spyOn(console, 'error')
  const frames = countFrames()
  const { result } = mount(post({ tokens: 10_000 }))
  await waitFor(() => expect(stream(result).closeReason).toBe('done'))
  frames.stop()
  expect(stream(result).state).toBe(expectedText(10_000))
  expect(result.commits.count).toBeLessThanOrEqual(frames.frames + 2)
  expect(errors).not.toHaveBeenCalled()
})

it('ends the stream with a typed invalid-argument error when the reducer throws', async () => {
  const { result } = mount(post({ tokens: 5 }), {
    reducer: (text, event) => {
      if (event.type === 'delta' && text.length > 3) throw new Error('bug in a reducer')
      return options.reducer(text, event)
    },
  })
  await waitFor(() => expect(stream(result).closeReason).toBe('error'))
  expect(stream(result).error).toMatchObject({ code: 'invalid-argument' })
  expect(stream(result).state).toBe(expectedText(2))
})

describe('in a hidden tab, where animation frames do not run', () => {
  /** Animation frames that never come, as in a background tab. */
  const stallFrames = () => vi.spyOn(globalThis, 'requestAnimationFrame').mockReturnValue(0)
  const setHidden = (hidden: boolean) =>
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => hidden })
  afterEach(() => setHidden(false))

  it('keeps the state current on a timer', async () => {
    setHidden(true)
    stallFrames()
    const { result } = mount(post({ tokens: 20 }))
    await waitFor(() => expect(stream(result).closeReason).toBe('done'))
    expect(stream(result).state).toBe(expectedText(20))
  })

  it('shows the current text the moment the tab becomes visible', async () => {
    const frames = stallFrames()
    const { result } = mount(post({ tokens: 20 }))
    // The tokens arrived and asked for a frame that never comes.
    await waitFor(() => expect(frames).toHaveBeenCalled())
    await waitFor(() => expect(server.openConnections).toBe(0))
    expect(stream(result).state).not.toBe(expectedText(20))
    act(() => {
      dispatchEvent(new Event('visibilitychange'))
    })
    expect(stream(result).state).toBe(expectedText(20))
  })
})

it('publishes a replay (Unbroken-Replay-Through) in one commit, however many reads it takes', async () => {
  // A raw server: 2,000 logged events in 10 writes, 30 ms apart (several frames), then live ones.
  const events = (from: number, to: number) =>
    Array.from({ length: to - from }, (_, i) => {
      const id = from + i + 1
      return `id: ${id}\nevent: delta\ndata: {"text":"${tokenText(id - 1)}"}\n\n`
    }).join('')
  let sendLive = () => {}
  const live = new Promise<void>((resolve) => {
    sendLive = resolve
  })
  const raw = await listen(async (_req, res) => {
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'unbroken-replay-through': '2000',
    })
    for (let chunk = 0; chunk < 10; chunk++) {
      res.write(events(chunk * 200, chunk * 200 + 200))
      await new Promise((resolve) => setTimeout(resolve, 30))
    }
    await live
    res.end(`${events(2_000, 2_001)}id: 2002\nevent: done\ndata: {}\n\n`)
  })
  const { result } = mount(`${raw.origin}/`)
  const before = result.commits.count
  await waitFor(() => expect(stream(result).replayed).toBe(2_000))
  expect(stream(result).state).toBe(expectedText(2_000))
  expect(result.commits.count - before).toBe(1)
  sendLive()
  await waitFor(() => expect(stream(result).closeReason).toBe('done'))
  expect(stream(result).state).toBe(expectedText(2_001))
  await raw.close()
})
