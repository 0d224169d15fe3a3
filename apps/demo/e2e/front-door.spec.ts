// `pnpm demo`, the README's first command, run as a terminal runs it and ended as a visitor ends
// it: Ctrl-C, which signals the whole foreground process group (pnpm, the shell, the launcher and
// the proxy alike).
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { expect, test } from '@playwright/test'
import { freePort } from '@unbroken/test-kit'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))

test('Ctrl-C on pnpm demo drains the proxy and exits 0, printing no error', async () => {
  // It builds the app first, as the command does: seconds on a quiet machine, more on a busy one.
  test.setTimeout(150_000)
  const port = await freePort()
  const demo = spawn('pnpm', ['demo', '--port', String(port)], {
    cwd: ROOT,
    // Its own process group, as a terminal's foreground job.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  demo.stdout.on('data', (chunk) => (output += chunk))
  demo.stderr.on('data', (chunk) => (output += chunk))
  const exited = once(demo, 'exit')
  const url = `http://127.0.0.1:${port}`
  const group = -(demo.pid as number)
  try {
    await expect.poll(() => output, { timeout: 120_000 }).toContain(`Unbroken demo: ${url}/`)
    process.kill(group, 'SIGINT')
  } catch (error) {
    process.kill(group, 'SIGKILL')
    throw error
  }
  const [code, signal] = await exited
  expect({ code, signal, output }).toMatchObject({ code: 0, signal: null })
  expect(output).not.toMatch(/ERR_PNPM|ELIFECYCLE|Command failed|SIGINT/)
  // Every process of the group is gone: the proxy no longer answers.
  await expect(fetch(`${url}/readyz`)).rejects.toThrow()
})
