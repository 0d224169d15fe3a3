// @unbroken/server/next in a real Next.js 15 app (frameworks/next-app): its routes under
// /api/streams and /api/chat, through a cut, under `next build && next start` and under `next dev`.
// The app is built once per run, in a copy (e2e/.next-app) that Next may write into freely.
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { once } from 'node:events'
import { appendFileSync, cpSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { readSse, waitFor } from '@unbroken/test-kit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chatThroughCut, cuttingProxy, EXPECTED_TEXT, expectPreflight } from './scenario'

const E2E = join(import.meta.dirname, '..')
const APP = join(E2E, '.next-app')
const NEXT = join(E2E, 'node_modules/next/dist/bin/next')
const ENV = { ...process.env, NEXT_TELEMETRY_DISABLED: '1' }
// Next compiles with webpack on two shared cores: minutes, not seconds (see e2e/README.md).
const BUILD_TIMEOUT_MS = 8 * 60_000

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1')
  await once(server, 'listening')
  const address = server.address()
  server.close()
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}

interface NextServer {
  readonly origin: string
  readonly port: number
  /** Lines the app's chat module printed when it was loaded. */
  loads(): number
  stop(): Promise<void>
}

/** Runs `next start` or `next dev` on a free port of 127.0.0.1 until it answers. */
async function startNext(command: 'start' | 'dev'): Promise<NextServer> {
  const port = await freePort()
  // `create-next-app` sets up `next dev --turbopack`, which gives every route its own module
  // instances: the case a process-wide registry exists for.
  const args = command === 'dev' ? ['dev', '--turbopack'] : ['start']
  // Its own process group, so that stopping it also stops the workers `next` forks.
  const child: ChildProcess = spawn(
    process.execPath,
    [NEXT, ...args, '-p', String(port), '-H', '127.0.0.1'],
    { cwd: APP, env: ENV, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let output = ''
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString()
  })
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString()
  })
  const exited = once(child, 'exit')
  const origin = `http://127.0.0.1:${port}`
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return
    process.kill(-child.pid, 'SIGTERM')
    const timer = setTimeout(() => child.pid && process.kill(-child.pid, 'SIGKILL'), 10_000)
    await exited
    clearTimeout(timer)
  }
  try {
    // The preflight compiles the catch-all route under `next dev`, so the tests do not wait for it.
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`next ${command} exited:\n${output}`)
        const response = await fetch(`${origin}/api/streams`, { method: 'OPTIONS' }).catch(
          () => undefined,
        )
        return response?.status === 204
      },
      { timeoutMs: 180_000, what: `next ${command} to answer` },
    )
  } catch (error) {
    await stop()
    throw error
  }
  return {
    origin,
    port,
    loads: () => output.split('[fixture] chat module loaded').length - 1,
    stop,
  }
}

beforeAll(async () => {
  rmSync(APP, { recursive: true, force: true })
  cpSync(join(import.meta.dirname, 'next-app'), APP, { recursive: true })
  // The app imports @unbroken/server as a user does, from its built dist.
  await promisify(execFile)(
    'pnpm',
    ['exec', 'turbo', 'run', 'build', '--filter=@unbroken/server'],
    {
      cwd: E2E,
    },
  )
}, 120_000)

/** The tests both modes share: each route through a cut, and the preflight. */
function describeRoutes(server: () => NextServer) {
  it('resumes a chat started at the catch-all route, cut mid-way', async () => {
    const proxy = await cuttingProxy(server().port)
    try {
      await chatThroughCut(proxy, '/api/streams')
    } finally {
      await proxy.close()
    }
  })

  it('resumes a chat started by another route through the catch-all route', async () => {
    const proxy = await cuttingProxy(server().port)
    try {
      await chatThroughCut(proxy, '/api/chat')
    } finally {
      await proxy.close()
    }
  })

  it('answers the CORS preflight of a cross-origin POST', async () => {
    await expectPreflight(server().origin, '/api/streams')
  })
}

describe('next build && next start', () => {
  let server: NextServer | undefined
  beforeAll(async () => {
    await promisify(execFile)(process.execPath, [NEXT, 'build'], {
      cwd: APP,
      env: ENV,
      timeout: BUILD_TIMEOUT_MS,
    })
    server = await startNext('start')
  }, BUILD_TIMEOUT_MS + 200_000)
  afterAll(() => server?.stop())

  describeRoutes(() => server as NextServer)
})

describe('next dev', () => {
  let server: NextServer | undefined
  beforeAll(async () => {
    server = await startNext('dev')
  }, 200_000)
  afterAll(() => server?.stop())

  describeRoutes(() => server as NextServer)

  it('resumes a stream started before an edit reloaded the app', { timeout: 180_000 }, async () => {
    const dev = server as NextServer
    const posted = await fetch(`${dev.origin}/api/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'hello' }),
    })
    const location = posted.headers.get('content-location') ?? ''
    const reader = readSse(posted)
    const [first] = await reader.take(1)
    await reader.cancel()
    const loadsBefore = dev.loads()
    appendFileSync(join(APP, 'chat.ts'), '\n// edited by the test\n')
    // A request compiles what changed before it is answered, so the resume runs on new modules.
    await waitFor(
      async () => {
        await fetch(`${dev.origin}/api/streams`, { method: 'OPTIONS' })
        return dev.loads() > loadsBefore
      },
      { timeoutMs: 120_000, what: 'next dev to load the edited module' },
    )
    const resumed = await fetch(`${dev.origin}${location}`, {
      headers: { 'last-event-id': first?.id ?? '' },
    })
    expect(resumed.status).toBe(200)
    const rest = (await readSse(resumed).rest()).filter((event) => event.event === 'delta')
    expect((first?.data ?? '') + rest.map((event) => event.data).join('')).toBe(EXPECTED_TEXT)
  })
})
