// The client side of server rendering: hydrating the server's HTML matches (no recoverable error),
// then the hook re-attaches a saved stream.
import { act, waitFor } from '@testing-library/react'
import { hydrateRoot } from 'react-dom/client'
import { renderToString } from 'react-dom/server'
import { afterEach, beforeEach, expect, it } from 'vitest'
import { expectedText, type LLMServer, startLLMServer } from '../test/llm-server'
import { useLLMStream } from './index'

let server: LLMServer
beforeEach(async () => {
  server = await startLLMServer()
  sessionStorage.clear()
})
afterEach(async () => {
  await server.close()
})

function Chat({ api }: { api: string }) {
  const { text, status } = useLLMStream({ api, id: 'hydrated' })
  return (
    <p>
      {status}:{text}
    </p>
  )
}

it('hydrates without a mismatch, then re-attaches the stream saved before the reload', async () => {
  const response = await fetch(server.api, { method: 'POST', body: '{"tokens":4}' })
  await response.text()
  const container = document.createElement('div')
  // Rendered on the "server" first, where no sessionStorage exists.
  container.innerHTML = renderToString(<Chat api={server.api} />)
  sessionStorage.setItem(
    'unbroken:hydrated',
    // Saved after two tokens (event 1 is meta): the server cannot know it, the client must not
    // render it before hydration is over.
    JSON.stringify({
      url: server.streams[0],
      lastEventId: '3',
      state: { text: 'w0 w1 ', tokens: 2 },
    }),
  )
  const errors: unknown[] = []
  await act(async () => {
    hydrateRoot(container, <Chat api={server.api} />, {
      onRecoverableError: (error) => void errors.push(error),
    })
  })
  await waitFor(() => expect(container.textContent).toBe(`done:${expectedText(4)}`))
  expect(errors).toEqual([])
  expect(server.requests.map(({ method }) => method)).toEqual(['POST', 'GET'])
})
