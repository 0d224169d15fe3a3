/**
 * Debian's nginx, run by a test: the checked-in `nginx.conf` rendered with the test's ports into a
 * temporary prefix (its pid, lock, logs and temp dirs), in the foreground as a child process, so
 * the test owns its whole life. Works as root (workers drop to nginx's default user) and not.
 */
import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { dyingWithParent, freePort, waitFor } from '@unbroken/test-kit'

const TEMPLATE = `${import.meta.dirname}/nginx.conf`
// Debian installs it in /usr/sbin, which is not on a normal user's PATH.
const NGINX = ['nginx', '/usr/sbin/nginx'].find(
  (command) => spawnSync(command, ['-v'], { stdio: 'ignore' }).status === 0,
)

export interface NginxOptions {
  /** The two proxy instances' ports, in the `upstream` block. */
  readonly upstreamPorts: readonly [number, number]
  /** nginx's `proxy_read_timeout`, e.g. `4s`: shorter than a long prefill. */
  readonly readTimeout: string
}

export interface Nginx {
  readonly port: number
  readonly origin: string
  /** `nginx -s reload`: new workers with the configuration, old ones finish (for at most 2 s). */
  reload(): Promise<void>
  /** What nginx printed (its error log) and its access log, for a failure message. */
  output(): string
  /** Fast shutdown (SIGTERM), then removes the prefix. */
  stop(): Promise<void>
}

/** Fills every `{{name}}` of the template; a name without a value is a mistake, not an empty string. */
export function renderConfig(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(/\{\{(\w+)\}\}/g, (_, name: string) => {
    const value = values[name]
    if (value === undefined) throw new Error(`nginx.conf: no value for {{${name}}}`)
    return value
  })
}

export async function startNginx(options: NginxOptions): Promise<Nginx> {
  if (!NGINX) throw new Error('nginx is not installed (apt-get install nginx)')
  const prefix = mkdtempSync(join(tmpdir(), 'unbroken-nginx-'))
  // As root, nginx's workers run as its default unprivileged user: they must reach the temp dirs.
  chmodSync(prefix, 0o755)
  const port = await freePort()
  const config = join(prefix, 'nginx.conf')
  writeFileSync(
    config,
    renderConfig(readFileSync(TEMPLATE, 'utf8'), {
      prefix,
      port: String(port),
      instanceA: String(options.upstreamPorts[0]),
      instanceB: String(options.upstreamPorts[1]),
      readTimeout: options.readTimeout,
    }),
  )
  const args = ['-p', prefix, '-c', config, '-e', 'stderr']
  const child: ChildProcess = spawn(...dyingWithParent(NGINX, [...args, '-g', 'daemon off;']), {
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let errorLog = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    errorLog += chunk.toString()
  })
  const exited = once(child, 'exit')
  const output = () => {
    let access = ''
    try {
      access = readFileSync(join(prefix, 'access.log'), 'utf8')
    } catch {}
    return `nginx error log:\n${errorLog.trim()}\nnginx access log:\n${access.trim()}`
  }
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`nginx exited: ${errorLog.trim()}`)
        return accepts(port)
      },
      { timeoutMs: 15_000, what: `nginx listening on ${port}` },
    )
  } catch (error) {
    child.kill('SIGKILL')
    rmSync(prefix, { recursive: true, force: true })
    throw error
  }
  const workersStarted = () => errorLog.match(/start worker process \d+/g)?.length ?? 0
  return {
    port,
    origin: `http://127.0.0.1:${port}`,
    async reload() {
      const before = workersStarted()
      await promisify(execFile)(NGINX, [...args, '-s', 'reload'])
      await waitFor(() => workersStarted() > before, {
        timeoutMs: 15_000,
        what: 'nginx to start workers with the reloaded configuration',
      })
    },
    output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000)
        child.kill('SIGTERM')
        await exited
        clearTimeout(timer)
      }
      rmSync(prefix, { recursive: true, force: true })
    },
  }
}

/**
 * Checks an `http` block (a documented configuration) with `nginx -t` in a temporary prefix:
 * resolves once nginx accepts it, rejects with what nginx said otherwise.
 */
export async function checkHttpConfig(http: string): Promise<void> {
  if (!NGINX) throw new Error('nginx is not installed (apt-get install nginx)')
  const prefix = mkdtempSync(join(tmpdir(), 'unbroken-nginx-check-'))
  const config = join(prefix, 'nginx.conf')
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .map((name) => `${name}_temp_path ${prefix}/${name};`)
    .join('\n')
  writeFileSync(
    config,
    `pid ${prefix}/nginx.pid;\nerror_log stderr;\nevents {}\nhttp {\naccess_log off;\n${temp}\n${http}\n}\n`,
  )
  try {
    await promisify(execFile)(NGINX, ['-t', '-q', '-p', prefix, '-c', config, '-e', 'stderr'])
  } finally {
    rmSync(prefix, { recursive: true, force: true })
  }
}

/** Whether something accepts TCP connections on the port (nginx has no other "ready" signal). */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}
