// The react suite's page: one contender per load (`?contender=ours|usechat`), each rendering the
// answer's text as it streams, inside a <Profiler> that counts commits. `window.bench.run(ask)`
// sends one request and resolves when the hook says the stream is over, with the commits and
// animation frames counted meanwhile and the text as rendered.
import { useChat } from '@ai-sdk/react'
import { useLLMStream } from '@unbroken/react'
import { DefaultChatTransport } from 'ai'
import { createElement, Profiler, useEffect } from 'react'
import { createRoot } from 'react-dom/client'
import type { Ask } from './server'

export interface Run {
  readonly commits: number
  readonly frames: number
  readonly text: string
  readonly status: string
}

let commits = 0
let frames = 0
const countFrame = () => {
  frames++
  requestAnimationFrame(countFrame)
}
requestAnimationFrame(countFrame)

/** What the mounted contender does: start one request; report when it is over. */
let start: ((ask: Ask) => void) | undefined
let finish: ((status: string) => void) | undefined

const textOf = () => document.getElementById('text')?.textContent ?? ''

function Ours() {
  const { text, status, send } = useLLMStream({ api: '/ours', backoff: { initialMs: 0 } })
  start = send
  useEffect(() => {
    if (status === 'done' || status === 'error') finish?.(status)
  }, [status])
  return createElement('p', { id: 'text' }, text)
}

const transport = new DefaultChatTransport({ api: '/api/chat' })

function UseChat() {
  // The default options, as most apps use it: no throttle.
  const { messages, status, sendMessage } = useChat({ transport })
  start = (ask) => void sendMessage({ text: 'go' }, { body: { ask } })
  useEffect(() => {
    if (status === 'ready' || status === 'error') finish?.(status)
  }, [status])
  const answer = messages.findLast((message) => message.role === 'assistant')
  const text = answer?.parts.map((part) => (part.type === 'text' ? part.text : '')).join('') ?? ''
  return createElement('p', { id: 'text' }, text)
}

const contender = new URLSearchParams(location.search).get('contender')
const app = createElement(contender === 'ours' ? Ours : UseChat)
createRoot(document.getElementById('root') as HTMLElement).render(
  createElement(Profiler, { id: 'bench', onRender: () => void commits++ }, app),
)

const api = {
  ready: () => start !== undefined,
  run(ask: Ask): Promise<Run> {
    const before = { commits, frames }
    return new Promise((resolve) => {
      finish = (status) => {
        finish = undefined
        // The text as the user sees it once React has committed the final state.
        resolve({
          commits: commits - before.commits,
          frames: frames - before.frames,
          text: textOf(),
          status,
        })
      }
      start?.(ask)
    })
  },
}
;(globalThis as unknown as { bench: typeof api }).bench = api
