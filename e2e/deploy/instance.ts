/**
 * One `apps/proxy` instance, run from source as `pnpm --filter @unbroken/proxy start` runs it (its
 * own `main.ts`, so SIGTERM takes the real shutdown path), that a test can stop, kill and start
 * again on the same port, as a deploy or a crash does to a server behind a load balancer.
 */
import { type Child, startChild } from '@unbroken/test-kit'

const MAIN = `${import.meta.dirname}/../../apps/proxy/src/main.ts`

export interface ProxyInstance {
  /** `A` or `B`, as failure messages name it. */
  readonly name: string
  readonly port: number
  readonly origin: string
  /** Whether a process is running (started and not yet stopped or killed). */
  readonly running: boolean
  /** The current process id, for failure messages. */
  readonly pid: number | undefined
  /** SIGTERM, as a deploy does: resolves once the process has drained and exited (bounded: 5 min). */
  stop(): Promise<void>
  /** SIGKILL, as a crash or an OOM kill does. */
  kill(): Promise<void>
  /** Starts a new process on the same port (after `stop` or `kill`). */
  start(): Promise<void>
  /** Every process's log lines so far (its JSON logs, then anything on stderr), oldest first. */
  output(): string
}

export async function startInstance(
  name: string,
  env: Readonly<Record<string, string>>,
): Promise<ProxyInstance> {
  const spawnOn = (port: number) => startChild(MAIN, { ...env, PORT: String(port) })
  let child: Child | undefined = await spawnOn(0)
  const port = child.port
  const history: string[] = []
  const retire = (how: string) => {
    if (!child) return
    history.push(`--- ${name} pid ${child.pid} (${how}) ---\n${child.output()}`)
    child = undefined
  }
  return {
    name,
    port,
    origin: `http://127.0.0.1:${port}`,
    get running() {
      return child !== undefined
    },
    get pid() {
      return child?.pid
    },
    async stop() {
      // The proxy's own shutdown grace bounds the drain; this only catches a hung process.
      await child?.stop(300_000)
      retire('stopped with SIGTERM')
    },
    async kill() {
      await child?.kill()
      retire('killed with SIGKILL')
    },
    async start() {
      if (child) throw new Error(`instance ${name} is already running`)
      child = await spawnOn(port)
    },
    output: () =>
      [
        ...history,
        ...(child ? [`--- ${name} pid ${child.pid} (running) ---\n${child.output()}`] : []),
      ].join('\n'),
  }
}
