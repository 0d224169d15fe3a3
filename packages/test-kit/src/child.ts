import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'

const ROOT = `${import.meta.dirname}/../../..`

// What `output()` keeps: the last lines, enough for a soak's thousands of stream lifecycle lines
// (a few MB at most), without letting a chatty child grow the test process without bound.
const KEPT_LINES = 5_000

export type Child = {
  /** The first line the child printed that is a JSON object with a numeric `port` (e.g. further ports). */
  readonly announced: Readonly<Record<string, unknown>>
  readonly port: number
  readonly origin: string
  readonly pid: number
  /** The last lines the child printed on stdout and stderr, in order: its logs, for a failure message. */
  output(): string
  /** SIGKILL: the process dies mid-write, as in a crash or an OOM kill. */
  kill(): Promise<void>
  /**
   * SIGTERM, as a deploy does; resolves once the process exited. SIGKILL after `killAfterMs`
   * (default 10 s): a server draining long generations needs longer.
   */
  stop(killAfterMs?: number): Promise<void>
}

/**
 * Runs the TypeScript server `script` (on workspace sources) in a child process and resolves once
 * it announces its port: the first stdout line that is a JSON object with a numeric `port`, such
 * as `{"port":N}` or a JSON log line (bounded: 30 s). A test can then kill it like a crash.
 */
export async function startChild(
  script: string,
  env: Record<string, string>,
  nodeArgs: readonly string[] = [],
): Promise<Child> {
  // Node itself with tsx's loader, not the tsx CLI: the CLI runs the script in a grandchild
  // that would survive the SIGKILL meant for it. It dies with this process too, so a crashed or
  // killed test run leaves no server behind.
  const child: ChildProcess = spawn(
    ...dyingWithParent(process.execPath, [
      ...nodeArgs,
      '--import',
      'tsx',
      '--conditions=@unbroken/source',
      script,
    ]),
    {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  const kept: string[] = []
  const keep = (line: string) => {
    kept.push(line)
    if (kept.length > KEPT_LINES) kept.shift()
  }
  createInterface({ input: child.stderr as NodeJS.ReadableStream }).on('line', keep)
  const exited = once(child, 'exit')
  // 'close' comes after the last output was read, so an early exit reports all of it.
  const closed = once(child, 'close')
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })
  const announcement = new Promise<Record<string, unknown>>((resolve) => {
    lines.on('line', (line) => {
      keep(line)
      const announced = portAnnouncement(line)
      if (announced) resolve(announced)
    })
  })
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
  const announced = await Promise.race([announcement, closed.then(() => undefined)])
  clearTimeout(timer)
  if (!announced) throw new Error(`${script} exited before listening: ${kept.join('\n').trim()}`)
  const port = announced.port as number
  return {
    announced,
    port,
    origin: `http://127.0.0.1:${port}`,
    pid: child.pid as number,
    output: () => kept.join('\n'),
    async kill() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL')
        await exited
      }
    },
    async stop(killAfterMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return
      const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs)
      child.kill('SIGTERM')
      await exited
      clearTimeout(timer)
    },
  }
}

function portAnnouncement(line: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(line)
    const record = value as Record<string, unknown>
    return typeof value === 'object' && value !== null && typeof record.port === 'number'
      ? record
      : undefined
  } catch {
    return undefined
  }
}

/**
 * Wraps a command in util-linux's `setpriv --pdeathsig KILL` where it exists (Debian, CI): the
 * kernel then kills the command when the process that started it dies, so a run killed before
 * `stop()` (a crashed or timed-out worker, `vitest list`, Ctrl-C) leaves nothing behind.
 * `setpriv` execs, so the child's pid stays the command's.
 */
export function dyingWithParent(command: string, args: string[]): [string, string[]] {
  if (spawnSync('setpriv', ['--version'], { stdio: 'ignore' }).status !== 0) return [command, args]
  return ['setpriv', ['--pdeathsig', 'KILL', command, ...args]]
}
