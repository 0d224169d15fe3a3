/**
 * Starts a throwaway `redis-server` for tests and benches, so `@unbroken/redis` is always tested
 * against a real Redis. Honours `REDIS_URL` (an existing server is used and never stopped).
 *
 * ```ts
 * const redis = await startRedisServer()
 * if (!redis) return // no binary and not in CI: the caller skips
 * afterAll(() => redis.stop())
 * ```
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { dyingWithParent } from './child'
import { freePort } from './listen'

/** A running Redis the caller may use; `stop` is a no-op for a server given through `REDIS_URL`. */
export interface RedisServer {
  readonly url: string
  readonly port: number
  /** Stops the server (SIGTERM, then SIGKILL after 5 s). */
  stop(): Promise<void>
  /**
   * SIGKILLs and restarts the server on the same port (a server without `persistent` can also be
   * started again after `stop`). Data is lost unless the server was started with `persistent`.
   */
  restart(): Promise<void>
}

export interface RedisServerOptions {
  /** Append-only file, fsync'd on every write, so that `restart()` keeps every acknowledged write. */
  readonly persistent?: boolean | undefined
}

/** Whether a `redis-server` binary is on PATH. */
export function hasRedisServer(): boolean {
  if (process.env.REDIS_URL) return true
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0
}

/**
 * Resolves to a running server, or `undefined` when no binary exists and `CI` is unset (the test
 * skips). In CI a missing binary throws: a skipped Redis suite must never pass silently there.
 */
export async function startRedisServer(
  options: RedisServerOptions = {},
): Promise<RedisServer | undefined> {
  const given = process.env.REDIS_URL
  if (given) {
    return {
      url: given,
      port: Number(new URL(given).port || 6379),
      stop: async () => {},
      restart: async () => {
        throw new Error('restart() needs a server started by this helper, not REDIS_URL')
      },
    }
  }
  if (!hasRedisServer()) {
    // CI services set CI=true; CI=false or CI=0 is a developer opting out.
    if (/^(?!false$|0$)./i.test(process.env.CI ?? ''))
      throw new Error('redis-server is not installed (apt-get install redis-server)')
    return undefined
  }
  const port = await freePort()
  const dir = options.persistent ? mkdtempSync(join(tmpdir(), 'unbroken-redis-')) : undefined
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '']
  args.push(
    ...(dir
      ? ['--appendonly', 'yes', '--appendfsync', 'always', '--dir', dir]
      : ['--appendonly', 'no']),
  )
  let child = await launch(args, port)
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop: async () => {
      await terminate(child)
      if (dir) rmSync(dir, { recursive: true, force: true })
    },
    restart: async () => {
      child.kill('SIGKILL')
      await exited(child)
      child = await launch(args, port)
    },
  }
}

async function launch(args: string[], port: number): Promise<ChildProcess> {
  const child = spawn(...dyingWithParent('redis-server', args), {
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  const deadline = Date.now() + 10_000
  while (!(await pings(port))) {
    if (child.exitCode !== null) throw new Error(`redis-server exited: ${stderr.trim()}`)
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`redis-server did not answer PING on port ${port} within 10 s`)
    }
    // Polling readiness: redis-server has no "ready" signal other than answering.
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  return child
}

/** Sends an inline PING and checks for `+PONG`, without a client library. */
function pings(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket()
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(500, () => done(false))
    socket.once('error', () => done(false))
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')))
    socket.connect(port, '127.0.0.1', () => socket.write('PING\r\n'))
  })
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => child.once('exit', () => resolve()))
}

async function terminate(child: ChildProcess): Promise<void> {
  const gone = exited(child)
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000)
  await gone
  clearTimeout(timer)
}
