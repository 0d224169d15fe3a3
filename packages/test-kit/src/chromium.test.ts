import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterEach, expect, it, vi } from 'vitest'
import { chromiumLaunchOptions } from './chromium'

const run = promisify(execFile)
let profile: string | undefined

afterEach(() => {
  vi.unstubAllEnvs()
  if (profile) rmSync(profile, { recursive: true, force: true })
  profile = undefined
})

it('launches Chromium headless on this machine (as root, with no display) and renders a page', async () => {
  const { executablePath, args } = chromiumLaunchOptions()
  profile = mkdtempSync(join(tmpdir(), 'unbroken-chromium-'))
  const { stdout } = await run(
    executablePath,
    [...args, `--user-data-dir=${profile}`, '--dump-dom', 'data:text/html,<p id=ok>rendered</p>'],
    { env: { ...process.env, DISPLAY: '' }, timeout: 60_000 },
  )
  expect(stdout).toContain('<p id="ok">rendered</p>')
})

it('takes the browser from CHROMIUM_PATH when it is set', () => {
  vi.stubEnv('CHROMIUM_PATH', '/opt/chromium/chrome')
  expect(chromiumLaunchOptions().executablePath).toBe('/opt/chromium/chrome')
})
