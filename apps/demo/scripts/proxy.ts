// Starts `unbroken-proxy` (apps/proxy, from source) for the demo, exactly as a user would run it:
// the simulated model and the memory log by default, token auth with a fresh secret (so tokens can
// expire while you watch), and the demo's network controls. Flags given to `pnpm demo -- …` (or
// the proxy's environment variables) come last and win, e.g. `--upstream openai`.
import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

const PROXY_MAIN = fileURLToPath(new URL('../../proxy/src/main.ts', import.meta.url))

// How the demo differs from the proxy's defaults, and why:
const DEMO_FLAGS = [
  // Visitors switch pages and watch for a while: streams stay resumable for half an hour.
  ['--stream-ttl', '30m'],
  // "Stall upstream" should end in an error a visitor sees, not after the default 5 minutes.
  ['--upstream-idle-timeout', '20s'],
  // Keepalives every 5 s, so a stalled stream visibly stays connected.
  ['--keepalive', '5s'],
  ['--demo-controls', 'on'],
  // One URL on the terminal; `--log-level info` shows every stream's lifecycle and accounting.
  ['--log-level', 'warn'],
].flat()

export interface DemoProxy {
  readonly url: string
  readonly child: ChildProcess
}

/** Starts the proxy with the demo's flags plus `flags`; resolves once `/readyz` answers. */
export async function startDemoProxy(flags: readonly string[]): Promise<DemoProxy> {
  const port = portOf(flags)
  const env = { ...process.env }
  env.UNBROKEN_TOKEN_SECRET ||= randomBytes(32).toString('base64url')
  const child = spawn(
    process.execPath,
    ['--conditions=@unbroken/source', '--import', 'tsx', PROXY_MAIN, ...DEMO_FLAGS, ...flags],
    { env, stdio: 'inherit' },
  )
  const exited = once(child, 'exit').then(([code]) => {
    throw new Error(`the proxy exited with status ${code}`)
  })
  const url = `http://127.0.0.1:${port}`
  await Promise.race([exited, waitReady(url)])
  return { url, child }
}

/**
 * Ends the proxy gracefully with the first signal the launcher gets, then exits with its status,
 * so that Ctrl-C on `pnpm demo` ends quietly with 0. Later signals are absorbed: pnpm sends its
 * script a SIGINT of its own after the terminal's (and a nested pnpm a SIGTERM), and dying of one
 * would make pnpm report `Command failed with signal`.
 */
export function forwardSignals(child: ChildProcess): void {
  let forwarded = false
  const stop = (signal: NodeJS.Signals) => {
    if (!forwarded) child.kill(signal)
    forwarded = true
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
  // A proxy that died of a signal nobody sent it (killed by hand, out of memory) is a failure.
  child.once('exit', (code) => process.exit(code ?? 1))
}

function portOf(flags: readonly string[]): number {
  const { values } = parseArgs({
    args: [...flags],
    options: { port: { type: 'string' } },
    strict: false,
  })
  return Number(values.port ?? process.env.PORT ?? 8787)
}

async function waitReady(url: string): Promise<void> {
  for (;;) {
    const ready = await fetch(`${url}/readyz`).then(
      (response) => response.ok,
      () => false,
    )
    if (ready) return
    await sleep(100)
  }
}
