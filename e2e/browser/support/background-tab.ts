import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { type Browser, chromium, type Page } from '@playwright/test'
import { chromiumLaunchOptions, dyingWithParent } from '@unbroken/test-kit'

export type Tabs = {
  /** The first tab of the window. */
  readonly page: Page
  /** Opens a second tab in front of `page`: Chromium hides `page` and stops its animation frames. */
  hide(): Promise<void>
  /** Brings `page` back to the front. */
  show(): Promise<void>
  close(): Promise<void>
}

/**
 * A Chromium window whose first tab can really go to the background. A page that Playwright opens
 * itself never does (headless Chromium 156): Playwright turns on focus emulation for it
 * (`Emulation.setFocusEmulationEnabled`), and Chromium keeps an emulated-focus page visible, at
 * about 60 frames/s, behind another tab or in a minimised window. So this starts Chromium with the
 * usual options and attaches with `noDefaults`, which leaves the window's first tab unemulated.
 * Behind a second tab it then reports `hidden`, runs no animation frames, and has its timers
 * throttled, as a real background tab does.
 */
export async function openTabs(): Promise<Tabs> {
  const { executablePath, args } = chromiumLaunchOptions()
  const profile = mkdtempSync(join(tmpdir(), 'unbroken-tabs-'))
  const child = spawn(
    ...dyingWithParent(executablePath, [
      ...args,
      `--user-data-dir=${profile}`,
      '--remote-debugging-port=0',
      'about:blank',
    ]),
    { stdio: ['ignore', 'ignore', 'pipe'] },
  )
  const exited = once(child, 'exit')
  let browser: Browser | undefined
  try {
    browser = await chromium.connectOverCDP(await devToolsUrl(child), { noDefaults: true })
    const context = browser.contexts()[0]
    const page = context?.pages()[0]
    if (!context || !page) throw new Error('Chromium started without its first tab')
    let front: Page | undefined
    const visibility = (state: DocumentVisibilityState) =>
      page.waitForFunction((state) => document.visibilityState === state, state, {
        polling: 20,
        timeout: 10_000,
      })
    return {
      page,
      async hide() {
        front = await context.newPage()
        await visibility('hidden')
      },
      async show() {
        await page.bringToFront()
        await front?.close()
        await visibility('visible')
      },
      close: () => stop(),
    }
  } catch (error) {
    await stop()
    throw error
  }

  async function stop() {
    await browser?.close()
    if (child.exitCode === null && child.signalCode === null) {
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
      child.kill('SIGTERM')
      await exited
      clearTimeout(timer)
    }
    rmSync(profile, { recursive: true, force: true })
  }
}

/** The browser's DevTools endpoint, from the line it prints once listening on its (free) port. */
async function devToolsUrl(child: ChildProcess): Promise<string> {
  const stderr = child.stderr as NodeJS.ReadableStream
  const kept: string[] = []
  try {
    for await (const line of createInterface({ input: stderr })) {
      const url = /^DevTools listening on (ws:\/\/\S+)/.exec(line)?.[1]
      if (url) return url
      kept.push(line)
    }
  } finally {
    // Closing the line reader paused stderr: drain it, or a chatty browser would block on a full pipe.
    stderr.resume()
  }
  throw new Error(`Chromium exited before listening: ${kept.join('\n')}`)
}
