import { afterEach, expect, it, vi } from 'vitest'
import type { ResumableStreams } from './resumable-types'

const opened: ResumableStreams[] = []
afterEach(async () => {
  for (const streams of opened.splice(0)) await streams.close()
})

/** A fresh copy of the module, as a dev server's reload (or a second route bundle) loads it. */
async function reloaded() {
  vi.resetModules()
  return import('./shared-registry')
}

it('gives a reloaded module the registry, and the streams, that the first copy created', async () => {
  const first = (await reloaded()).getSharedResumableStreams('chat', { basePath: '/api/streams' })
  opened.push(first)
  const started = await first.start(async (stream) => {
    await stream.send({ data: 'kept' })
  })
  const second = (await reloaded()).getSharedResumableStreams('chat')
  expect(second).toBe(first)
  expect(second.basePath).toBe('/api/streams')
  expect(started.url).toMatch(/^\/api\/streams\//)
})

it('keeps registries of different names apart', async () => {
  const { getSharedResumableStreams } = await reloaded()
  const chat = getSharedResumableStreams('chat')
  const jobs = getSharedResumableStreams('jobs')
  opened.push(chat, jobs)
  expect(jobs).not.toBe(chat)
})

it('frees the name on close, so the next call creates a new registry', async () => {
  const { getSharedResumableStreams } = await reloaded()
  const first = getSharedResumableStreams('chat')
  await first.close()
  const second = getSharedResumableStreams('chat')
  opened.push(second)
  expect(second).not.toBe(first)
  expect(second.active).toBe(0)
})
