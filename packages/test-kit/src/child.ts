import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'

const ROOT = `${import.meta.dirname}/../../..`

export type Child = {
  /** Everything the child printed on its first line, e.g. further ports. */
  readonly announced: Readonly<Record<string, unknown>>
  readonly port: number
  readonly origin: string
  /** SIGKILL: the process dies mid-write, as in a crash or an OOM kill. */
  kill(): Promise<void>
  /** SIGTERM, as a deploy does; resolves once the process exited (SIGKILL after 10 s). */
  stop(): Promise<void>
}

/**
 * Runs the TypeScript server `script` (on workspace sources) in a child process and resolves once
 * it prints `{"port":N}` on stdout (bounded: 30 s). A test can then kill it like a crash.
 */
export async function startChild(
  script: string,
  env: Record<string, string>,
  nodeArgs: readonly string[] = [],
): Promise<Child> {
  // Node itself with tsx's loader, not the tsx CLI: the CLI runs the script in a grandchild
  // that would survive the SIGKILL meant for it.
  const child: ChildProcess = spawn(
    process.execPath,
    [...nodeArgs, '--import', 'tsx', '--conditions=@unbroken/source', script],
    {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  const exited = once(child, 'exit')
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
  const first = await Promise.race([once(lines, 'line'), exited.then(() => undefined)])
  clearTimeout(timer)
  if (!first) throw new Error(`${script} exited before listening: ${stderr.trim()}`)
  const announced = JSON.parse(String(first[0])) as { port: number }
  const { port } = announced
  return {
    announced,
    port,
    origin: `http://127.0.0.1:${port}`,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL')
        await exited
      }
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
      child.kill('SIGTERM')
      await exited
      clearTimeout(timer)
    },
  }
}
