import { execFileSync } from 'node:child_process'

/**
 * How every browser test and bench launches Chromium (Playwright's `launchOptions`): Debian's
 * `chromium` (`CHROMIUM_PATH`, else the one on `PATH`), never a downloaded build, in the new
 * headless mode, without sandbox (root in a container) or GPU, and without the background traffic
 * (component updates, sync, first-run) that would add requests and noise to a measurement. A
 * function, so that importing the kit never runs `which`.
 */
export function chromiumLaunchOptions(): { executablePath: string; args: string[] } {
  return {
    executablePath:
      process.env.CHROMIUM_PATH ?? execFileSync('which', ['chromium']).toString().trim(),
    args: [
      '--headless=new',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  }
}
