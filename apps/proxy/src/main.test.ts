// The command itself: `unbroken-proxy` as a child process, configured by flags and environment.
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { describe, expect, it } from 'vitest'

const MAIN = new URL('./main.ts', import.meta.url).pathname

/**
 * Runs the CLI from source, as `pnpm start` does. Not the test kit's `startChild`: these tests
 * need the exit status and everything printed, not only a port.
 */
function runCli(args: string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(
    process.execPath,
    ['--import', 'tsx', '--conditions=@unbroken/source', MAIN, ...args],
    {
      env: { PATH: process.env.PATH, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
}

const collect = (stream: NodeJS.ReadableStream | null) => {
  let text = ''
  stream?.on('data', (chunk) => (text += chunk))
  return () => text
}

// Each child compiles the sources with tsx first (seconds on a busy machine), so they run side by side.
describe.concurrent('unbroken-proxy', { timeout: 60_000 }, () => {
  it('exits with status 2 and one line per bad value', async () => {
    const child = runCli(['--port', 'eighty', '--upstream', 'gpt'], { UNBROKEN_TOKEN_TTL: '5' })
    const stderr = collect(child.stderr)
    const [code] = await once(child, 'exit')
    expect(code).toBe(2)
    expect(stderr().trim().split('\n')).toEqual([
      'Invalid configuration:',
      '  --upstream: expected one of simulated, openai, anthropic, ollama, got "gpt"',
      '  --port: expected a whole number from 0 to 65535, got "eighty"',
      '  UNBROKEN_TOKEN_TTL: expected a duration such as 500ms, 30s, 15m or 1h, of at least 1s, got "5"',
    ])
  })

  it('prints every option for --help', async () => {
    const child = runCli(['--help'])
    const stdout = collect(child.stdout)
    const [code] = await once(child, 'exit')
    expect(code).toBe(0)
    expect(stdout()).toContain('--redis-url (REDIS_URL)')
  })

  it('starts offline on loopback, streams, and exits 0 after a graceful stop on SIGTERM', async () => {
    const child = runCli([], { PORT: '0', UNBROKEN_SIM_TTFT: '0ms' })
    const stdout = collect(child.stdout)
    while (!stdout().includes('\n')) await once(child.stdout as NodeJS.ReadableStream, 'data')
    const listening = JSON.parse(stdout().split('\n')[0] as string)
    expect(listening).toMatchObject({
      msg: 'proxy listening',
      url: `http://127.0.0.1:${listening.port}`,
      upstream: 'simulated',
      log: 'memory',
      auth: 'open',
    })
    const response = await fetch(`${listening.url}/v1/streams`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }], maxTokens: 3 }),
    })
    expect(await response.text()).toMatch(/event: done/)
    child.kill('SIGTERM')
    const [code] = await once(child, 'exit')
    expect(code).toBe(0)
    expect(stdout()).toContain('"msg":"proxy stopped"')
  })
})
