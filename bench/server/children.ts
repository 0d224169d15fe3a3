// Forks contender servers (contenders.ts), one process each, and asks them questions over IPC:
// their CPU so far, and their heap or RSS after a forced GC. Stopping awaits the exit, so the
// child's CPU is reaped into ours before the suite's machine line is read.
import { type ChildProcess, fork } from 'node:child_process'
import { once } from 'node:events'
import { join } from 'node:path'

// BENCH_PROFILE=<dir>: every contender runs under `node --cpu-prof` and, when stopped, exits on its
// own (a killed process writes no profile), leaving `<dir>/<contender>/*.cpuprofile`: profiles of
// the real bench scenario, which is how the writer's costs were found.
const PROFILE_DIR = process.env.BENCH_PROFILE

/** Every server contender, in the order tables print them. */
export const CONTENDERS = [
  'raw',
  'raw-64k',
  'raw-64ev',
  'ours-node',
  'ours-resumable',
  'ours-web',
  'better-sse',
  'hono',
  'h3',
  'base-node',
  'base-resumable',
] as const
export type Contender = (typeof CONTENDERS)[number]

export interface Child {
  readonly port: number
  /** `cpu`: µs used so far; `heap`/`rss`: bytes after two forced GCs. */
  ask(question: 'cpu' | 'heap' | 'rss'): Promise<number>
  stop(): Promise<void>
}

export async function spawn(contender: Contender, keepAliveMs: number): Promise<Child> {
  const child: ChildProcess = fork(
    new URL('./contenders.ts', import.meta.url),
    [contender, String(keepAliveMs)],
    {
      execArgv: [
        ...process.execArgv,
        '--expose-gc',
        ...(PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${join(PROFILE_DIR, contender)}`] : []),
      ],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  )
  let next = 0
  const waiting = new Map<number, (value: number) => void>()
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${contender} exited with ${code}`)))
    child.on('message', (message: { type: string; port?: number; id?: number; value?: number }) => {
      if (message.type === 'ready') resolve(message.port ?? 0)
      else waiting.get(message.id ?? -1)?.(message.value ?? 0)
    })
  })
  return {
    port,
    ask: (question) =>
      new Promise((resolve) => {
        const id = next++
        waiting.set(id, resolve)
        child.send({ type: question, id })
      }),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return
      const exited = once(child, 'exit')
      if (PROFILE_DIR) child.send({ type: 'exit', id: -1 })
      else child.kill()
      await exited
    },
  }
}

/** Starts one child per contender, runs `use`, and stops them all whatever happens. */
export async function withChildren<T>(
  contenders: readonly Contender[],
  keepAliveMs: number,
  use: (children: ReadonlyMap<Contender, Child>) => Promise<T>,
): Promise<T> {
  const children = new Map<Contender, Child>()
  try {
    for (const contender of contenders) children.set(contender, await spawn(contender, keepAliveMs))
    return await use(children)
  } finally {
    await Promise.all([...children.values()].map((child) => child.stop()))
  }
}
