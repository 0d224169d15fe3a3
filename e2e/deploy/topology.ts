/**
 * The deployment the e2e tests run, started by the tests themselves on 127.0.0.1: one
 * `redis-server`, two `apps/proxy` instances sharing it as their event log (simulated upstream),
 * and nginx balancing between them. Everything is reached through `origin` (nginx).
 */
import { type RedisServer, startRedisServer } from '@unbroken/test-kit'
import { type ProxyInstance, startInstance } from './instance'
import { type Nginx, startNginx } from './nginx'

export interface TopologyOptions {
  /** Redis with an append-only file fsync'd on every write, so a restart keeps what it acknowledged. */
  readonly persistentRedis?: boolean
  /** Extra environment for both instances (the simulated model's pace, token secret, TTLs…). */
  readonly instanceEnv?: Readonly<Record<string, string>>
  /** nginx's `proxy_read_timeout` (default {@link NGINX_READ_TIMEOUT_MS}). */
  readonly nginxReadTimeoutMs?: number
}

export interface Topology {
  /** nginx's origin: the only address clients use. */
  readonly origin: string
  readonly redis: RedisServer
  readonly nginx: Nginx
  readonly instances: readonly [ProxyInstance, ProxyInstance]
  /** The instance listening on `port` (nginx's `X-Unbroken-Upstream` names it by address). */
  instanceOn(port: number): ProxyInstance
  /** One line naming every part and its port, for failure messages. */
  summary(): string
  /**
   * Starts whatever a scenario left stopped, and restarts what it left running with variables of
   * its own, so the next one starts from the whole topology as configured.
   */
  heal(): Promise<void>
  close(): Promise<void>
}

// nginx gives up on a silent upstream after this long; the instances send a keepalive comment
// every second, so only a missing keepalive lets it fire. It also bounds the wait for a response
// head, which a loaded 2-core machine stretched past 10 s (a 504 for a tenth of the soak's POSTs
// at a load average of 23). The browser scenarios set 5 s, shorter than their 6 s prefill.
export const NGINX_READ_TIMEOUT_MS = 30_000
const KEEPALIVE = '1s'

export async function startTopology(options: TopologyOptions = {}): Promise<Topology> {
  const redis = await startRedisServer({ persistent: options.persistentRedis ?? false })
  if (!redis) throw new Error('redis-server is not installed (apt-get install redis-server)')
  const env = {
    REDIS_URL: redis.url,
    UNBROKEN_KEEPALIVE: KEEPALIVE,
    UNBROKEN_LOG_LEVEL: 'info',
    ...options.instanceEnv,
  }
  const started: ProxyInstance[] = []
  let nginx: Nginx | undefined
  const close = async () => {
    await nginx?.stop()
    await Promise.all(started.map((instance) => instance.kill()))
    await redis.stop()
  }
  try {
    // One after the other: each compiles the proxy's sources with tsx, seconds on a busy machine.
    const a = await startInstance('A', env)
    started.push(a)
    const b = await startInstance('B', env)
    started.push(b)
    const instances = [a, b] as const
    nginx = await startNginx({
      upstreamPorts: [instances[0].port, instances[1].port],
      readTimeout: `${options.nginxReadTimeoutMs ?? NGINX_READ_TIMEOUT_MS}ms`,
    })
    const proxy = nginx
    const summary = () => {
      const parts = instances.map(
        (i) => `instance ${i.name} 127.0.0.1:${i.port} (${i.running ? `pid ${i.pid}` : 'down'})`,
      )
      const aof = options.persistentRedis ? ' (AOF)' : ''
      return `nginx 127.0.0.1:${proxy.port} → ${parts.join(', ')}; redis-server 127.0.0.1:${redis.port}${aof}`
    }
    return {
      origin: proxy.origin,
      redis,
      nginx: proxy,
      instances,
      instanceOn(port) {
        const instance = instances.find((candidate) => candidate.port === port)
        if (!instance) throw new Error(`no instance on port ${port} (${summary()})`)
        return instance
      },
      summary,
      async heal() {
        for (const instance of instances) {
          if (instance.customised) await instance.stop()
          if (!instance.running) await instance.start()
        }
      },
      close,
    }
  } catch (error) {
    await close()
    throw error
  }
}
