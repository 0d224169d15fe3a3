// The proxy's configuration: one table of options, each read from a flag or an environment
// variable, validated at start with a message per bad value. The same table prints `--help` and
// is checked against the README's options table by a test.
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { ProxyError } from './errors'

/** Where generations come from. */
export type UpstreamKind = 'simulated' | 'openai' | 'anthropic' | 'ollama'

/** pino's levels, plus `silent`. */
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'

const UPSTREAM_KINDS: readonly UpstreamKind[] = ['simulated', 'openai', 'anthropic', 'ollama']
const LOG_LEVELS: readonly LogLevel[] = [
  'fatal',
  'error',
  'warn',
  'info',
  'debug',
  'trace',
  'silent',
]

/** The base URL each kind talks to when `--upstream-url` is not given. */
export const DEFAULT_UPSTREAM_URLS: Readonly<Record<Exclude<UpstreamKind, 'simulated'>, string>> = {
  openai: 'https://api.openai.com/v1',
  anthropic: 'https://api.anthropic.com',
  ollama: 'http://127.0.0.1:11434',
}

// The conventional variable each vendor's own SDK reads, used when UNBROKEN_UPSTREAM_KEY is unset.
const VENDOR_KEY_ENV: Partial<Record<UpstreamKind, string>> = {
  openai: 'OPENAI_API_KEY',
  anthropic: 'ANTHROPIC_API_KEY',
}

type Parse<T> = (text: string) => T

interface Option<T> {
  readonly env: string
  readonly help: string
  /** Shown in `--help` and the README; `undefined` means "not set". */
  readonly fallback: T
  readonly parse: Parse<T>
  /** Printed instead of the default value (e.g. "per upstream"). */
  readonly shownDefault?: string
  /** How the default value reads in `--help` (durations as `15m`). */
  readonly show?: (value: T) => string
  /** A secret: a bad value is described by its length, never echoed into logs. */
  readonly sensitive?: boolean
}

const option = <T>(spec: Option<T>): Option<T> => spec

/** Every option, keyed by its flag without the leading `--`. */
export const OPTIONS = {
  upstream: option<UpstreamKind>({
    env: 'UNBROKEN_UPSTREAM',
    help: `Where generations come from: ${UPSTREAM_KINDS.join(', ')}.`,
    fallback: 'simulated',
    parse: oneOf(UPSTREAM_KINDS),
  }),
  'upstream-url': option<string | undefined>({
    env: 'UNBROKEN_UPSTREAM_URL',
    help: 'Base URL of the upstream API (OpenAI-compatible ones include `/v1`).',
    fallback: undefined,
    parse: httpUrl,
    shownDefault: 'per upstream',
  }),
  'upstream-key': option<string | undefined>({
    env: 'UNBROKEN_UPSTREAM_KEY',
    help: 'API key for the upstream. Falls back to OPENAI_API_KEY or ANTHROPIC_API_KEY.',
    fallback: undefined,
    parse: nonEmpty,
    sensitive: true,
  }),
  model: option<string | undefined>({
    env: 'UNBROKEN_MODEL',
    help: 'Model used when a request names none.',
    fallback: undefined,
    parse: nonEmpty,
    shownDefault: 'per upstream',
  }),
  host: option<string>({
    env: 'UNBROKEN_HOST',
    help: 'Interface to listen on. Anything but loopback exposes the proxy to the network.',
    fallback: '127.0.0.1',
    parse: nonEmpty,
  }),
  port: option<number>({
    env: 'PORT',
    help: 'Port to listen on; 0 picks a free one.',
    fallback: 8787,
    parse: integer(0, 65_535),
  }),
  'redis-url': option<string | undefined>({
    env: 'REDIS_URL',
    help: 'Keep streams in Redis (`@unbroken/redis`) so any instance can resume them.',
    fallback: undefined,
    parse: redisUrl,
    shownDefault: 'memory log',
  }),
  'token-secret': option<string | undefined>({
    env: 'UNBROKEN_TOKEN_SECRET',
    help: 'HMAC secret for access tokens (32+ characters). Unset: open local mode, no auth.',
    fallback: undefined,
    parse: secret(32),
    sensitive: true,
    shownDefault: 'open mode',
  }),
  'token-ttl': option<number>({
    env: 'UNBROKEN_TOKEN_TTL',
    help: 'Lifetime of issued tokens (`30s`, `15m`, `1h`).',
    fallback: 15 * 60_000,
    parse: duration(1000),
    show: formatDuration,
  }),
  'token-mint-key': option<string | undefined>({
    env: 'UNBROKEN_TOKEN_MINT_KEY',
    help: 'If set, `POST /v1/auth/token` needs `Authorization: Bearer <this key>`.',
    fallback: undefined,
    parse: secret(16),
    sensitive: true,
    shownDefault: 'anyone may mint',
  }),
  'cors-origin': option<string | undefined>({
    env: 'UNBROKEN_CORS_ORIGIN',
    help: 'Allow this origin (or `*`) to call the proxy from a browser.',
    fallback: undefined,
    parse: origin,
    shownDefault: 'same origin only',
  }),
  'log-level': option<LogLevel>({
    env: 'UNBROKEN_LOG_LEVEL',
    help: `Log level: ${LOG_LEVELS.join(', ')}.`,
    fallback: 'info',
    parse: oneOf(LOG_LEVELS),
  }),
  keepalive: option<number>({
    env: 'UNBROKEN_KEEPALIVE',
    help: 'Comment sent on a silent connection after this long (e.g. during prefill).',
    fallback: 15_000,
    parse: duration(10),
    show: formatDuration,
  }),
  'drain-timeout': option<number>({
    env: 'UNBROKEN_DRAIN_TIMEOUT',
    help: 'A client that reads nothing of what waits for it for this long is cut; a reader that resumes picks up from the log.',
    fallback: 30_000,
    parse: duration(10),
    show: formatDuration,
  }),
  'stream-ttl': option<number>({
    env: 'UNBROKEN_STREAM_TTL',
    help: 'How long a finished stream stays resumable.',
    fallback: 5 * 60_000,
    parse: duration(1000),
    show: formatDuration,
  }),
  'max-duration': option<number>({
    env: 'UNBROKEN_MAX_DURATION',
    help: 'Longest a generation may run before it is stopped.',
    fallback: 10 * 60_000,
    parse: duration(1000),
    show: formatDuration,
  }),
  'upstream-idle-timeout': option<number>({
    env: 'UNBROKEN_UPSTREAM_IDLE_TIMEOUT',
    help: 'Longest the upstream may stay silent, prefill included, before the stream fails.',
    fallback: 5 * 60_000,
    parse: duration(100),
    show: formatDuration,
  }),
  'max-streams': option<number>({
    env: 'UNBROKEN_MAX_STREAMS',
    help: 'Generations running at once; more are refused with 429.',
    fallback: 1000,
    parse: integer(1, 1_000_000),
  }),
  'shutdown-grace': option<number>({
    env: 'UNBROKEN_SHUTDOWN_GRACE',
    help: 'On SIGTERM, how long running generations may take to finish.',
    fallback: 30_000,
    parse: duration(0),
    show: formatDuration,
  }),
  'sim-ttft': option<number>({
    env: 'UNBROKEN_SIM_TTFT',
    help: 'Simulated model: time to first token.',
    fallback: 400,
    parse: duration(0),
    show: formatDuration,
  }),
  'sim-rate': option<number>({
    env: 'UNBROKEN_SIM_RATE',
    help: 'Simulated model: tokens per second.',
    fallback: 40,
    parse: integer(1, 100_000),
  }),
  'static-dir': option<string | undefined>({
    env: 'UNBROKEN_STATIC_DIR',
    help: 'Serve the files of this directory at `/` (the built demo app, `apps/demo/dist`).',
    fallback: undefined,
    parse: staticDir,
  }),
  'demo-controls': option<boolean>({
    env: 'UNBROKEN_DEMO_CONTROLS',
    help: "The demo's network controls (`/demo/…`: drop, flaky, slow), `on` or `off`. Anyone who reaches the port can then cut streams: for the demo only.",
    fallback: false,
    parse: onOff,
    show: (on) => (on ? 'on' : 'off'),
  }),
} as const

type Options = typeof OPTIONS

/** Validated configuration: one field per option, camelCased, plus the resolved upstream. */
export type Config = {
  readonly [K in keyof Options as CamelCase<K>]: Options[K] extends Option<infer T> ? T : never
} & {
  /** `upstreamUrl`, or the kind's default; `undefined` for the simulated model. */
  readonly upstreamBaseUrl: string | undefined
}

type CamelCase<S extends string> = S extends `${infer Head}-${infer Tail}`
  ? `${Head}${Capitalize<CamelCase<Tail>>}`
  : S

const camel = (flag: string) => flag.replace(/-(\w)/g, (_, letter: string) => letter.toUpperCase())

/**
 * Reads every option from `argv` (flags win) and `env`, and validates them all. Throws one
 * `invalid-config` error that lists every bad value, one per line, each naming its flag and variable.
 */
export function parseConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Config {
  const problems: string[] = []
  let flags: Record<string, string | boolean | undefined> = {}
  try {
    flags = parseArgs({
      args: [...argv],
      options: Object.fromEntries(
        Object.keys(OPTIONS).map((flag) => [flag, { type: 'string' as const }]),
      ),
      strict: true,
      allowPositionals: false,
    }).values
  } catch (error) {
    // node's messages for these span lines; keep one problem per line.
    problems.push((error as Error).message.replace(/\s*\n\s*/g, ' '))
  }
  const values: Record<string, unknown> = {}
  for (const [flag, spec] of Object.entries(OPTIONS) as [string, Option<unknown>][]) {
    const fromFlag = flags[flag]
    const raw = typeof fromFlag === 'string' ? fromFlag : env[spec.env]
    const source = typeof fromFlag === 'string' ? `--${flag}` : spec.env
    if (raw === undefined || (raw === '' && source === spec.env)) {
      values[camel(flag)] = spec.fallback
      continue
    }
    try {
      values[camel(flag)] = spec.parse(raw)
    } catch (error) {
      const got = spec.sensitive ? `${raw.length} characters` : JSON.stringify(raw)
      problems.push(`${source}: ${(error as Error).message}, got ${got}`)
    }
  }
  const kind = values.upstream as UpstreamKind
  if (values.upstreamKey === undefined && VENDOR_KEY_ENV[kind]) {
    values.upstreamKey = env[VENDOR_KEY_ENV[kind]] || undefined
  }
  const baseUrl =
    kind === 'simulated'
      ? undefined
      : ((values.upstreamUrl as string | undefined) ?? DEFAULT_UPSTREAM_URLS[kind])
  // A vendor's public API always needs a key: better to say so now than on every request.
  if (baseUrl === DEFAULT_UPSTREAM_URLS.openai || baseUrl === DEFAULT_UPSTREAM_URLS.anthropic) {
    if (values.upstreamKey === undefined) {
      problems.push(
        `--upstream-key (UNBROKEN_UPSTREAM_KEY or ${VENDOR_KEY_ENV[kind]}): required for ${baseUrl}`,
      )
    }
  }
  if (problems.length > 0) {
    throw new ProxyError('invalid-config', `Invalid configuration:\n  ${problems.join('\n  ')}`)
  }
  return { ...values, upstreamBaseUrl: baseUrl } as Config
}

/** `--help`: every option with its variable, default and meaning. */
export function formatHelp(): string {
  const lines = ['Usage: unbroken-proxy [--option value]...', '', 'Options (flag, variable):']
  for (const [flag, spec] of Object.entries(OPTIONS)) {
    lines.push(
      `  --${flag} (${spec.env})`,
      `      ${spec.help} Default: ${shownDefault(flag as keyof typeof OPTIONS)}.`,
    )
  }
  return lines.join('\n')
}

/** How an option's default reads in `--help` and the README. */
export function shownDefault(flag: keyof typeof OPTIONS): string {
  const spec = OPTIONS[flag] as Option<unknown>
  if (spec.shownDefault !== undefined) return spec.shownDefault
  if (spec.fallback === undefined) return 'none'
  return spec.show ? spec.show(spec.fallback) : String(spec.fallback)
}

// Parsers: each throws an Error whose message completes "<flag>: <message>, got <value>".

function oneOf<T extends string>(allowed: readonly T[]): Parse<T> {
  return (text) => {
    if ((allowed as readonly string[]).includes(text)) return text as T
    throw new Error(`expected one of ${allowed.join(', ')}`)
  }
}

function nonEmpty(text: string): string {
  if (text.trim() === '') throw new Error('expected a non-empty value')
  return text
}

function integer(min: number, max: number): Parse<number> {
  return (text) => {
    const value = Number(text)
    if (!/^\d+$/.test(text.trim()) || value < min || value > max) {
      throw new Error(`expected a whole number from ${min} to ${max}`)
    }
    return value
  }
}

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const
function duration(minMs: number): Parse<number> {
  return (text) => {
    const match = DURATION.exec(text.trim())
    const ms = match
      ? Math.round(Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS])
      : NaN
    if (!(ms >= minMs)) {
      throw new Error(
        `expected a duration such as 500ms, 30s, 15m or 1h, of at least ${formatDuration(minMs)}`,
      )
    }
    return ms
  }
}

/** `90000` → `1.5m`: the shortest unit that gives a whole or one-decimal number. */
export function formatDuration(ms: number): string {
  for (const unit of ['h', 'm', 's'] as const) {
    const value = ms / UNIT_MS[unit]
    if (value >= 1 && Number.isInteger(value * 10)) return `${value}${unit}`
  }
  return `${ms}ms`
}

function httpUrl(text: string): string {
  const url = URL.canParse(text) ? new URL(text) : undefined
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new Error('expected an http:// or https:// URL')
  }
  return text.replace(/\/+$/, '')
}

function staticDir(text: string): string {
  const dir = resolve(text)
  if (!existsSync(join(dir, 'index.html'))) {
    throw new Error('expected a directory with an index.html (build the demo first)')
  }
  return dir
}

function onOff(text: string): boolean {
  if (text === 'on' || text === 'off') return text === 'on'
  throw new Error('expected on or off')
}

function redisUrl(text: string): string {
  const url = URL.canParse(text) ? new URL(text) : undefined
  if (!url || (url.protocol !== 'redis:' && url.protocol !== 'rediss:')) {
    throw new Error('expected a redis:// or rediss:// URL')
  }
  return text
}

function secret(minLength: number): Parse<string> {
  return (text) => {
    if (text.length < minLength) throw new Error(`expected at least ${minLength} characters`)
    return text
  }
}

function origin(text: string): string {
  if (text === '*') return text
  const url = URL.canParse(text) ? new URL(text) : undefined
  if (!url || url.origin !== text) {
    throw new Error('expected `*` or an origin such as https://app.example.com (no path)')
  }
  return text
}
