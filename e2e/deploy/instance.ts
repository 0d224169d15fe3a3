/**
 * One `apps/proxy` instance, run from source as `pnpm --filter @unbroken/proxy start` runs it (its
 * own `main.ts`, so SIGTERM takes the real shutdown path), that a test can stop, kill and start
 * again on the same port, as a deploy or a crash does to a server behind a load balancer.
 */
import { type Child, startChild } from '@unbroken/test-kit'

const MAIN = `${import.meta.dirname}/../../apps/proxy/src/main.ts`

// A process starved of CPU (a loaded machine, the soak's 500 clients) can miss test-kit's 30 s
// limit to announce its port (it did at a load average above 30); a deploy tool tries again, and
// so does a restart here, a bounded number of times.
const START_ATTEMPTS = 3

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
  /**
   * Starts a new process on the same port (after `stop` or `kill`), with `env` added to the
   * topology's variables for this process only (a deploy that changes its configuration).
   */
  start(env?: Readonly<Record<string, string>>): Promise<void>
  /** Whether the running process was started with variables of its own. */
  readonly customised: boolean
  /** Every process's log lines so far (its JSON logs, then anything on stderr), oldest first. */
  output(): string
}

export async function startInstance(
  name: string,
  env: Readonly<Record<string, string>>,
): Promise<ProxyInstance> {
  const spawnOn = (port: number, own: Readonly<Record<string, string>> = {}) =>
    startChild(MAIN, { ...env, ...own, PORT: String(port) })
  let child: Child | undefined = await spawnOn(0)
  let customised = false
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
    get customised() {
      return child !== undefined && customised
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
    async start(own) {
      if (child) throw new Error(`instance ${name} is already running`)
      for (let attempt = 1; !child; attempt++) {
        try {
          child = await spawnOn(port, own)
        } catch (error) {
          history.push(`--- ${name} start attempt ${attempt} failed ---\n${String(error)}`)
          if (attempt === START_ATTEMPTS) throw error
        }
      }
      customised = own !== undefined
    },
    output: () =>
      [
        ...history,
        ...(child ? [`--- ${name} pid ${child.pid} (running) ---\n${child.output()}`] : []),
      ].join('\n'),
  }
}
