// The app's one registry and producer, shared by both routes. `getSharedResumableStreams` keeps one
// registry per process: `next dev` loads each route's modules in its own bundle, and again after
// every edit, and a module-level registry there would lose its streams (a resume answers 404).
import { getSharedResumableStreams, type ProducerStream } from '@unbroken/server'

// The test counts these lines to know that `next dev` really loaded this module again.
console.log('[fixture] chat module loaded')

export const streams = getSharedResumableStreams('chat', {
  basePath: '/api/streams',
  allowOrigin: 'https://app.example',
  retryMs: 20,
})

export async function chat(stream: ProducerStream, request: Request): Promise<void> {
  const { prompt } = (await request.json()) as { prompt?: unknown }
  if (prompt !== 'hello') throw new Error(`unexpected prompt ${String(prompt)}`)
  for (let i = 0; i < 40; i++) await stream.send({ event: 'delta', data: `token-${i} ` })
}
