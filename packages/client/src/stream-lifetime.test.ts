import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { formatEvent, openStream, useServer } from '../test/server'

const run = promisify(execFile)
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url))
const child = fileURLToPath(new URL('../test/lifetime-child.ts', import.meta.url))

const loopback = useServer()

// The first answer asks for a 1 s backoff; the second one streams. The reader runs in a child
// process of its own, where its timers are the only thing that could keep Node alive.
const serveAfterBackoff = () =>
  loopback.start((_request, res, index) => {
    if (index === 0) {
      res.writeHead(503, { 'retry-after': '1' })
      return res.end()
    }
    openStream(res)
    res.end(formatEvent({ id: '1', data: 'hello' }) + formatEvent({ event: 'done', data: '{}' }))
  })

const readInChild = async (mode: 'callbacks' | 'iterate') => {
  const { stdout } = await run(
    process.execPath,
    [
      '--import',
      'tsx',
      '--conditions=@unbroken/source',
      child,
      `${loopback.server.origin}/s`,
      mode,
    ],
    { cwd: repoRoot, timeout: 15_000 },
  )
  return stdout.trim()
}

describe('createEventStream in a Node process', () => {
  it('keeps a for-await reader alive through a backoff wait, to the end of the stream', async () => {
    const server = await serveAfterBackoff()
    expect(await readInChild('iterate')).toBe('["hello","{}"]')
    expect(server.requests).toHaveLength(2)
  })

  it('unrefs its timers for a callback-only reader, so they alone do not keep Node running', async () => {
    const server = await serveAfterBackoff()
    expect(await readInChild('callbacks')).toBe('[]')
    expect(server.requests).toHaveLength(1)
  })
})
