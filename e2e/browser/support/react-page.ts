/**
 * The React test page: `useLLMStream` from source in a real React (development build, so StrictMode
 * double-mounts), inside a `<Profiler>` that counts commits. It exposes `window.reactPage` for the
 * specs: mount options, the hook's controls, what was rendered, commits and animation frames.
 */
import { type LLMStream, type LLMStreamOptions, useLLMStream } from '@unbroken/react'
import { createElement, Profiler, StrictMode, useEffect } from 'react'
import { createRoot, type Root } from 'react-dom/client'

export type MountOptions = {
  strict?: boolean
  /** Sends this body from a mount effect, which StrictMode runs twice (vercel/ai#7891). */
  sendOnMount?: unknown
  id?: string
  stopOnUnmount?: boolean
}

export type Rendered = {
  /** The text in the DOM, as the user sees it. */
  text: string
  status: string
  tokens: number
  reconnects: number
  replayed: number
  error: string | undefined
  commits: number
  frames: number
  /** `document.visibilityState`, as the page sees it. */
  visibility: DocumentVisibilityState
}

let root: Root | undefined
let latest: LLMStream | undefined
let commits = 0
let frames = 0
// Counts the page's animation frames; a hidden tab runs none.
const countFrame = () => {
  frames++
  requestAnimationFrame(countFrame)
}
requestAnimationFrame(countFrame)

function Chat(props: { options: LLMStreamOptions; sendOnMount: unknown }) {
  const chat = useLLMStream(props.options)
  latest = chat
  const { send } = chat
  useEffect(() => {
    if (props.sendOnMount) send(props.sendOnMount)
  }, [send, props.sendOnMount])
  return createElement(
    'main',
    null,
    createElement('p', { id: 'status' }, chat.status),
    createElement('p', { id: 'text' }, chat.text),
  )
}

function mount({ strict = false, sendOnMount, ...options }: MountOptions = {}) {
  root?.unmount()
  const container = document.getElementById('root') ?? document.body
  root = createRoot(container)
  const chat = createElement(Chat, { options: { api: '/llm', ...options }, sendOnMount })
  const counted = createElement(Profiler, { id: 'chat', onRender: () => void commits++ }, chat)
  root.render(strict ? createElement(StrictMode, null, counted) : counted)
}

function rendered(): Rendered {
  return {
    text: document.getElementById('text')?.textContent ?? '',
    status: document.getElementById('status')?.textContent ?? '',
    tokens: latest?.tokens ?? 0,
    reconnects: latest?.metrics.reconnects ?? 0,
    replayed: latest?.metrics.replayed ?? 0,
    error: latest?.error?.code,
    commits,
    frames,
    visibility: document.visibilityState,
  }
}

const api = {
  mount,
  unmount() {
    root?.unmount()
    root = undefined
  },
  send(body: unknown) {
    latest?.send(body)
  },
  stop: () => latest?.stop(),
  /** What the next animation frame shows: in a hidden tab, the first frame once it is visible again. */
  nextFrame: () =>
    new Promise<Rendered>((resolve) => requestAnimationFrame(() => resolve(rendered()))),
  rendered,
}
export type ReactPageApi = typeof api
;(globalThis as unknown as { reactPage: ReactPageApi }).reactPage = api
