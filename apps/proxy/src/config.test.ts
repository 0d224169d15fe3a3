import { describe, expect, it } from 'vitest'
import { formatHelp, OPTIONS, parseConfig } from './config'
import { ProxyError } from './errors'

const problemsOf = (argv: string[], env: Record<string, string> = {}): string[] => {
  try {
    parseConfig(argv, env)
  } catch (error) {
    expect(error).toBeInstanceOf(ProxyError)
    expect((error as ProxyError).code).toBe('invalid-config')
    return (error as ProxyError).message
      .split('\n')
      .slice(1)
      .map((line) => line.trim())
  }
  return []
}

describe('parseConfig', () => {
  it('starts offline by default: simulated model, memory log, loopback, open mode', () => {
    const config = parseConfig([], {})
    expect(config).toMatchObject({
      upstream: 'simulated',
      upstreamBaseUrl: undefined,
      host: '127.0.0.1',
      port: 8787,
      redisUrl: undefined,
      tokenSecret: undefined,
      logLevel: 'info',
    })
  })

  it('reads environment variables, and flags win over them', () => {
    const config = parseConfig(['--port', '9000', '--sim-rate=120'], {
      PORT: '7000',
      UNBROKEN_LOG_LEVEL: 'debug',
      UNBROKEN_TOKEN_TTL: '30s',
      REDIS_URL: 'redis://127.0.0.1:6379',
    })
    expect(config).toMatchObject({
      port: 9000,
      simRate: 120,
      logLevel: 'debug',
      tokenTtl: 30_000,
      redisUrl: 'redis://127.0.0.1:6379',
    })
  })

  it('resolves each upstream kind to its default base URL and vendor key variable', () => {
    expect(parseConfig(['--upstream', 'ollama'], {}).upstreamBaseUrl).toBe('http://127.0.0.1:11434')
    const openai = parseConfig(['--upstream', 'openai'], { OPENAI_API_KEY: 'sk-x' })
    expect(openai).toMatchObject({
      upstreamBaseUrl: 'https://api.openai.com/v1',
      upstreamKey: 'sk-x',
    })
    const local = parseConfig(
      ['--upstream', 'openai', '--upstream-url', 'http://127.0.0.1:8000/v1/'],
      {},
    )
    expect(local).toMatchObject({
      upstreamBaseUrl: 'http://127.0.0.1:8000/v1',
      upstreamKey: undefined,
    })
  })

  it.each([
    [
      ['--upstream', 'gpt'],
      'upstream: expected one of simulated, openai, anthropic, ollama, got "gpt"',
    ],
    [['--port', '70000'], 'port: expected a whole number from 0 to 65535, got "70000"'],
    [['--port', '80a'], 'port: expected a whole number from 0 to 65535, got "80a"'],
    [
      ['--token-ttl', '10'],
      'token-ttl: expected a duration such as 500ms, 30s, 15m or 1h, of at least 1s, got "10"',
    ],
    [
      ['--token-ttl', '500ms'],
      'token-ttl: expected a duration such as 500ms, 30s, 15m or 1h, of at least 1s, got "500ms"',
    ],
    [
      ['--drain-timeout', '5ms'],
      'drain-timeout: expected a duration such as 500ms, 30s, 15m or 1h, of at least 10ms, got "5ms"',
    ],
    [
      ['--redis-url', 'localhost:6379'],
      'redis-url: expected a redis:// or rediss:// URL, got "localhost:6379"',
    ],
    [
      ['--upstream-url', 'ftp://x'],
      'upstream-url: expected an http:// or https:// URL, got "ftp://x"',
    ],
    [
      ['--log-level', 'verbose'],
      'log-level: expected one of fatal, error, warn, info, debug, trace, silent, got "verbose"',
    ],
    [
      ['--cors-origin', 'https://app.example.com/path'],
      'cors-origin: expected `*` or an origin such as https://app.example.com (no path), got "https://app.example.com/path"',
    ],
  ])('refuses %j with a message naming the flag', (argv, message) => {
    expect(problemsOf(argv)).toEqual([`--${message}`])
  })

  it('names the environment variable when the bad value came from one', () => {
    expect(problemsOf([], { PORT: 'eighty' })).toEqual([
      'PORT: expected a whole number from 0 to 65535, got "eighty"',
    ])
  })

  it('reads the drain timeout from its flag or its variable, 30s by default, as the hub', () => {
    expect(parseConfig([], {}).drainTimeout).toBe(30_000)
    expect(parseConfig(['--drain-timeout', '500ms'], {}).drainTimeout).toBe(500)
    expect(parseConfig([], { UNBROKEN_DRAIN_TIMEOUT: '2m' }).drainTimeout).toBe(120_000)
    expect(problemsOf([], { UNBROKEN_DRAIN_TIMEOUT: 'soon' })).toEqual([
      'UNBROKEN_DRAIN_TIMEOUT: expected a duration such as 500ms, 30s, 15m or 1h, of at least 10ms, got "soon"',
    ])
  })

  it('describes a bad secret by its length, never by its value', () => {
    const [problem] = problemsOf(['--token-secret', 'hunter2'])
    expect(problem).toBe('--token-secret: expected at least 32 characters, got 7 characters')
  })

  it('lists every bad value at once, one per line', () => {
    expect(
      problemsOf(['--port=99999', '--sim-rate', '0'], { UNBROKEN_UPSTREAM: 'x' }),
    ).toHaveLength(3)
  })

  it('refuses an unknown flag, and a flag without its value, on one line each', () => {
    expect(problemsOf(['--prot', '80'])).toEqual([expect.stringMatching(/Unknown option '--prot'/)])
    expect(problemsOf(['--port', '-1'])).toEqual([
      expect.stringMatching(/'--port' argument is ambiguous/),
    ])
  })

  it('requires a key for a vendor API, and says which variables it looked at', () => {
    expect(problemsOf(['--upstream', 'anthropic'])).toEqual([
      '--upstream-key (UNBROKEN_UPSTREAM_KEY or ANTHROPIC_API_KEY): required for https://api.anthropic.com',
    ])
  })
})

describe('formatHelp', () => {
  it('lists every option with its variable and default', () => {
    const help = formatHelp()
    for (const [flag, spec] of Object.entries(OPTIONS)) {
      expect(help).toContain(`--${flag} (${spec.env})`)
    }
    expect(help).toContain('Lifetime of issued tokens (`30s`, `15m`, `1h`). Default: 15m.')
  })
})
