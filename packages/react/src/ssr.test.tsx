// @vitest-environment node
// Server rendering, as Next.js renders a client component: no window, no sessionStorage, no fetch
// during render; the server snapshot is the idle state.
import { renderToString } from 'react-dom/server'
import { expect, it, vi } from 'vitest'
import { useEventStream, useLLMStream } from './index'

function Chat() {
  const { text, status } = useLLMStream({ api: '/v1/streams', id: 'chat' })
  return (
    <p>
      {status}:{text}
    </p>
  )
}

function Feed() {
  const { state, status } = useEventStream('http://127.0.0.1:9/feed', {
    reducer: (count: number) => count + 1,
    initialState: 0,
  })
  return (
    <p>
      {status}:{state}
    </p>
  )
}

const aTick = () => new Promise((resolve) => setTimeout(resolve, 20))

it('renders useLLMStream on a server with no window, idle and without a request', async () => {
  const fetch = vi.spyOn(globalThis, 'fetch')
  expect(typeof window).toBe('undefined')
  expect(renderToString(<Chat />)).toBe('<p>idle<!-- -->:</p>')
  await aTick()
  expect(fetch).not.toHaveBeenCalled()
})

it('renders useEventStream on a server with its initial state and connects nothing', async () => {
  const fetch = vi.spyOn(globalThis, 'fetch').mockRejectedValue(new Error('no network here'))
  expect(renderToString(<Feed />)).toBe('<p>idle<!-- -->:<!-- -->0</p>')
  await aTick()
  expect(fetch).not.toHaveBeenCalled()
})
