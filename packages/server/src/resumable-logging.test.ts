// No silent failures (issue 10 #3): without `onError`, a producer's exception is logged once, with
// its stream id, in production as in development.
import { listen, readSse, waitFor } from '@unbroken/test-kit'
import { afterEach, expect, it, vi } from 'vitest'
import { createResumableStreams } from './resumable'

const closers: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const close of closers.splice(0)) await close()
})

it.each(['development', 'production'])(
  'logs a throwing producer once to console.error with the stream id (NODE_ENV=%s)',
  async (nodeEnv) => {
    vi.stubEnv('NODE_ENV', nodeEnv)
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {})
    const streams = createResumableStreams()
    const bug = new Error('model client exploded')
    const server = await listen(
      (req, res) =>
        void streams.handle(req, res, () => {
          throw bug
        }),
    )
    closers.push(server.close, () => streams.close())
    const response = await fetch(`${server.origin}/streams`, { method: 'POST' })
    const id = response.headers.get('content-location')?.split('/').pop() ?? ''
    const events = await readSse(response).rest()
    expect(events.at(-1)).toMatchObject({ event: 'error' })
    await waitFor(() => logged.mock.calls.length > 0)
    expect(logged).toHaveBeenCalledOnce()
    expect(logged.mock.calls[0]?.[0]).toContain(id)
    expect(logged.mock.calls[0]?.[1]).toBe(bug)
  },
)

it('leaves console.error alone when onError is given', async () => {
  const logged = vi.spyOn(console, 'error').mockImplementation(() => {})
  const seen: unknown[] = []
  const streams = createResumableStreams({ onError: (error) => seen.push(error) })
  const server = await listen(
    (req, res) =>
      void streams.handle(req, res, () => {
        throw new Error('handled')
      }),
  )
  closers.push(server.close, () => streams.close())
  await readSse(await fetch(`${server.origin}/streams`, { method: 'POST' })).rest()
  await waitFor(() => seen.length > 0)
  expect(logged).not.toHaveBeenCalled()
})
