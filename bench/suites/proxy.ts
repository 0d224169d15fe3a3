// The proxy (apps/proxy: its native endpoint, its OpenAI-compatible one, which the pass-through
// also speaks, and its Anthropic-compatible one) against the physical limit of any proxy: a
// `node:http` pass-through that pipes the request and the response. Both sit in front of one
// simulated upstream that stamps its write time into every token; the same streams also go to the
// upstream directly. Each server is its own process (its CPU and RSS are read from /proc); the clients run
// here. Rounds interleave the paths, so machine noise drifts over all alike.
import { setTimeout as sleep } from 'node:timers/promises'
import { type Child, createRandom, startChild } from '@unbroken/test-kit'
import {
  fmt,
  interleave,
  ROUNDS,
  ratio,
  type Stat,
  show,
  stat,
  type Target,
  table,
  targets,
} from '../harness'
import { type Path, readStream, type StreamResult } from '../proxy/clients'
import { cpuUs, rssBytes } from '../proxy/process-stats'

const ALL_PATHS = ['direct', 'passthrough', 'ours', 'ours-openai', 'ours-anthropic'] as const
type PathName = (typeof ALL_PATHS)[number]
// BENCH_CONTENDERS=ours,ours-openai,… picks paths, e.g. one endpoint while profiling it. The
// pass-through always runs: every target is relative to it. Targets of a path not run are skipped.
const chosen = process.env.BENCH_CONTENDERS?.split(',')
const PATHS = ALL_PATHS.filter(
  (path) => path === 'passthrough' || chosen === undefined || chosen.includes(path),
)
/** Our proxy's endpoints, each held to the same targets. */
const OURS = (['ours', 'ours-openai', 'ours-anthropic'] as const).filter((path) =>
  PATHS.includes(path),
)
// BENCH_PARTS=max-rate,paced,concurrent picks the scenarios; targets of one not run are skipped.
const parts = process.env.BENCH_PARTS?.split(',')
// BENCH_PROFILE=<dir>: the proxy runs under `node --cpu-prof` and leaves its profile there when
// the suite stops it (SIGTERM: it drains and exits, which writes the profile).
const PROFILE_DIR = process.env.BENCH_PROFILE

// Streams start at random moments within `spreadMs`, as independent users' requests do, from one
// fixed seed, so every path and round sees the same arrivals. Evenly spaced starts (every 10 ms for
// 100 streams) aliased with the 20 ms token period: all streams fell into two phases, and the
// upstream wrote about 50 tokens at once every 10 ms, a burst in the scenario meant to have none.
// Started in the same millisecond, N streams measure how fast a server absorbs a synchronised
// burst of N stream setups, and the upstream then writes token i of every stream in the same
// millisecond too, so a token waits behind N others: N × (our CPU per item − the pass-through's)
// is then the added latency, whatever the proxy's own latency. The reference figures for
// a pass-through (+2 ms TTFT, +0.2 ms per token) hold only without such bursts. BENCH_LOCKSTEP=1
// starts them all at once again, to measure that burst.
const LOCKSTEP = process.env.BENCH_LOCKSTEP === '1'
const ARRIVAL_SEED = 20_261_202

/** A workload: concurrent streams, tokens each, pace (0: as fast as backpressure allows). */
interface Scenario {
  /** What BENCH_PARTS calls it. */
  readonly part: 'max-rate' | 'paced' | 'concurrent'
  readonly name: string
  readonly streams: number
  readonly tokens: number
  readonly perSecond: number
  /** Over how long the streams' starts are spread; every stream is open together after it. */
  readonly spreadMs: number
  readonly rounds: number
}

const SCENARIOS: readonly Scenario[] = [
  {
    part: 'max-rate',
    name: '1 stream, max rate',
    streams: 1,
    tokens: 20_000,
    perSecond: 0,
    spreadMs: 0,
    rounds: ROUNDS,
  },
  {
    part: 'paced',
    name: '100 streams × 50 tok/s',
    streams: 100,
    tokens: 200,
    perSecond: 50,
    spreadMs: 1000,
    rounds: ROUNDS,
  },
  // Fewer rounds: each takes several seconds per path, and the point is that nothing is lost.
  {
    part: 'concurrent',
    name: '1,000 streams × 10 tok/s',
    streams: 1000,
    tokens: 50,
    perSecond: 10,
    spreadMs: 1000,
    rounds: Math.min(ROUNDS, 3),
  },
]

/** One path's figures in one round. */
interface Sample {
  readonly ttftP50: number
  readonly ttftP99: number
  readonly tokenP50: number
  readonly tokenP99: number
  readonly tokensPerSecond: number
  /** The proxy process's CPU per token delivered, in µs (none for the direct path). */
  readonly cpuPerToken: number
  /** The proxy process's RSS growth per open stream, in bytes, sampled mid-run. */
  readonly rssPerStream: number
  /** Tokens that did not arrive, or arrived out of order or twice. */
  readonly lost: number
  /** Streams that did not end with their end marker. */
  readonly incomplete: number
  /** Why streams did not end with their end marker: HTTP status and body start, or socket error. */
  readonly failures: readonly string[]
}

const percentile = (sorted: readonly number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN

async function measure(path: Path, server: Child | undefined, scenario: Scenario): Promise<Sample> {
  const pid = server?.announced.pid as number | undefined
  const rssBefore = pid === undefined ? Number.NaN : rssBytes(pid)
  const cpuBefore = pid === undefined ? 0 : cpuUs(pid)
  const started = performance.now()
  let rssMid = Number.NaN
  const spreadMs = LOCKSTEP ? 0 : scenario.spreadMs
  const durationMs = scenario.perSecond > 0 ? (scenario.tokens / scenario.perSecond) * 1000 : 0
  // Halfway through the time every stream is open and streaming: what it costs to hold them.
  const midway = setTimeout(
    () => {
      if (pid !== undefined) rssMid = rssBytes(pid)
    },
    spreadMs + (durationMs - spreadMs) / 2,
  )
  const random = createRandom(ARRIVAL_SEED)
  const results: StreamResult[] = await Promise.all(
    Array.from({ length: scenario.streams }, async () => {
      await sleep(random() * spreadMs)
      return readStream(path, scenario.tokens, scenario.perSecond)
    }),
  )
  clearTimeout(midway)
  const seconds = (performance.now() - started) / 1000
  const cpu = pid === undefined ? Number.NaN : cpuUs(pid) - cpuBefore
  const tokens = results.reduce((sum, r) => sum + r.tokens, 0)
  const latencies = results.flatMap((r) => r.latenciesMs).sort((a, b) => a - b)
  const ttfts = results.map((r) => r.ttftMs).sort((a, b) => a - b)
  return {
    ttftP50: percentile(ttfts, 0.5),
    ttftP99: percentile(ttfts, 0.99),
    tokenP50: percentile(latencies, 0.5),
    tokenP99: percentile(latencies, 0.99),
    tokensPerSecond: tokens / seconds,
    cpuPerToken: cpu / tokens,
    rssPerStream: (rssMid - rssBefore) / scenario.streams,
    lost:
      scenario.streams * scenario.tokens -
      tokens +
      results.reduce((sum, r) => sum + r.misordered, 0),
    incomplete: results.filter((r) => !r.complete).length,
    failures: results
      .filter((r) => !r.complete)
      .map((r) => `${r.status || 'no answer'}: ${r.refusal}`),
  }
}

export default async function proxySuite(): Promise<Target[]> {
  const upstream = await startChild('bench/proxy/upstream.ts', {})
  const passthrough = await startChild('bench/proxy/passthrough.ts', {
    UPSTREAM_PORT: String(upstream.port),
  })
  // The proxy as users run it: its own command, the memory log, info logs (a line per stream).
  const ours = await startChild(
    'apps/proxy/src/main.ts',
    {
      PORT: '0',
      UNBROKEN_UPSTREAM: 'openai',
      UNBROKEN_UPSTREAM_URL: `http://127.0.0.1:${upstream.port}/v1`,
      UNBROKEN_MAX_STREAMS: '2000',
      UNBROKEN_LOG_LEVEL: 'info',
    },
    PROFILE_DIR === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`],
  )
  const servers: Record<PathName, { path: Path; child: Child | undefined }> = {
    direct: { path: { port: upstream.port, shape: 'openai' }, child: undefined },
    passthrough: { path: { port: passthrough.port, shape: 'openai' }, child: passthrough },
    ours: { path: { port: ours.port, shape: 'native' }, child: ours },
    // `/v1/chat/completions`: the request and the chunks the direct path and pass-through carry.
    'ours-openai': { path: { port: ours.port, shape: 'openai' }, child: ours },
    // `/v1/messages`: the same tokens, translated into Anthropic's Messages events.
    'ours-anthropic': { path: { port: ours.port, shape: 'anthropic' }, child: ours },
  }
  const figures = new Map<string, Map<PathName, Sample[]>>()
  try {
    for (const scenario of SCENARIOS.filter((s) => parts === undefined || parts.includes(s.part))) {
      const samples = new Map<PathName, Sample[]>(PATHS.map((p) => [p, []]))
      await interleave({
        contenders: PATHS,
        rounds: scenario.rounds,
        label: scenario.name,
        measure: async (name, round) => {
          const { path, child } = servers[name]
          // The warm-up round is a tenth of the work: enough for the JIT and the sockets.
          const work =
            round < 0 ? { ...scenario, tokens: Math.ceil(scenario.tokens / 10) } : scenario
          const sample = await measure(path, child, work)
          if (round >= 0) samples.get(name)?.push(sample)
          return sample.tokensPerSecond
        },
      })
      figures.set(scenario.name, samples)
    }
  } finally {
    await Promise.all([ours.stop(), passthrough.stop(), upstream.stop()])
  }
  const lost = [...figures.values()].some((samples) =>
    OURS.some((path) => samples.get(path)?.some((sample) => sample.failures.length > 0)),
  )
  // A loss must be explained: the proxy's own account of it (its warnings, errors and incomplete
  // streams, among the lines it printed last).
  if (lost) {
    const troubles = ours
      .output()
      .split('\n')
      .filter((line) => /"level":(4|5|6)0|"status":"incomplete"/.test(line))
    console.log(`\n  the proxy's warnings, errors and incomplete streams (the last 10):`)
    for (const line of troubles.slice(-10)) console.log(`    ${line.slice(0, 400)}`)
  }
  return report(figures)
}

function report(figures: Map<string, Map<PathName, Sample[]>>): Target[] {
  const of = (scenario: string, path: PathName, pick: (s: Sample) => number) =>
    (figures.get(scenario)?.get(path) ?? []).map(pick)
  /** Per round: path's figure minus the pass-through's, in ms (what our proxy adds beyond the limit). */
  const beyond = (scenario: string, path: PathName, pick: (s: Sample) => number) =>
    stat(
      of(scenario, path, pick).map(
        (v, i) => v - (of(scenario, 'passthrough', pick)[i] ?? Number.NaN),
      ),
    )
  const added = (scenario: string, path: PathName, pick: (s: Sample) => number) =>
    stat(
      of(scenario, path, pick).map((v, i) => v - (of(scenario, 'direct', pick)[i] ?? Number.NaN)),
    )
  const ms = (value: Stat, digits = 2) =>
    Number.isNaN(value.median)
      ? ''
      : `${fmt(value.median, digits)} (${fmt(value.low, digits)}–${fmt(value.high, digits)})`

  console.log(
    `\n  Medians of ${ROUNDS} interleaved rounds (lowest–highest; the 1,000-stream scenario takes fewer). Latency is upstream write → client read; "added" subtracts the direct path of the same round. ${LOCKSTEP ? 'The streams of a scenario start in the same millisecond (BENCH_LOCKSTEP).' : 'The streams of a scenario start at seeded random moments within its spread (1 s), then run together.'}\n`,
  )
  for (const [scenario] of figures) {
    console.log(`  ${scenario}`)
    table(
      PATHS.map((path) => ({
        path,
        'TTFT p50 ms': ms(stat(of(scenario, path, (s) => s.ttftP50))),
        'TTFT p99 ms': ms(stat(of(scenario, path, (s) => s.ttftP99))),
        'added TTFT p50 ms': path === 'direct' ? '' : ms(added(scenario, path, (s) => s.ttftP50)),
        'token p50 ms': ms(stat(of(scenario, path, (s) => s.tokenP50)), 3),
        'token p99 ms': ms(stat(of(scenario, path, (s) => s.tokenP99)), 3),
        'tokens/s': fmt(stat(of(scenario, path, (s) => s.tokensPerSecond)).median),
        'CPU µs/token':
          path === 'direct' ? '' : ms(stat(of(scenario, path, (s) => s.cpuPerToken)), 1),
        'RSS KB/stream':
          path === 'direct' ? '' : ms(stat(of(scenario, path, (s) => s.rssPerStream / 1024)), 1),
        lost: fmt(Math.max(...of(scenario, path, (s) => s.lost))),
        incomplete: fmt(Math.max(...of(scenario, path, (s) => s.incomplete))),
      })),
    )
    failureReasons(scenario)
    console.log('')
  }

  /** Why streams were lost in a scenario, per path, most frequent first: a loss must be explained. */
  function failureReasons(scenario: string) {
    for (const path of PATHS) {
      const counts = new Map<string, number>()
      for (const sample of figures.get(scenario)?.get(path) ?? []) {
        for (const reason of sample.failures) counts.set(reason, (counts.get(reason) ?? 0) + 1)
      }
      for (const [reason, count] of [...counts].sort(([, a], [, b]) => b - a).slice(0, 5)) {
        console.log(`  ${path}: ${count} streams not complete over the rounds: ${reason}`)
      }
    }
  }

  const [maxRate, paced, thousand] = SCENARIOS.map((s) => s.name) as [string, string, string]
  type Path = (typeof OURS)[number]
  type Pick = (s: Sample) => number
  // Latency added by our path beyond what the pass-through adds, in ms.
  const addedBeyond = (
    path: Path,
    scenario: string,
    what: string,
    pick: Pick,
    atMost: number,
  ): [string, Target] => [
    scenario,
    {
      name: `added ${what} beyond the pass-through, ${scenario} (${path})`,
      value: beyond(scenario, path, pick),
      atMost,
      unit: ' ms',
    },
  ]
  // Our path's figure over the pass-through's, in the same rounds.
  const versus = (
    path: Path,
    scenario: string,
    what: string,
    pick: Pick,
    bound: { atMost: number } | { atLeast: number },
  ): [string, Target] => [
    scenario,
    {
      name: `${what} vs the pass-through, ${scenario} (${path})`,
      value: ratio(of(scenario, path, pick), of(scenario, 'passthrough', pick)),
      ...bound,
    },
  ]
  // Each target with the scenario it is judged on: a scenario not run (BENCH_PARTS) has none.
  const perPath = (path: Path): Array<[string, Target]> => [
    addedBeyond(path, paced, 'TTFT p50', (s) => s.ttftP50, 1),
    addedBeyond(path, paced, 'TTFT p99', (s) => s.ttftP99, 3),
    addedBeyond(path, paced, 'per-token p50', (s) => s.tokenP50, 0.3),
    addedBeyond(path, paced, 'per-token p99', (s) => s.tokenP99, 2),
    addedBeyond(path, maxRate, 'per-token p50', (s) => s.tokenP50, 0.3),
    versus(path, paced, 'CPU per token', (s) => s.cpuPerToken, { atMost: 2 }),
    versus(path, maxRate, 'CPU per token', (s) => s.cpuPerToken, { atMost: 2 }),
    versus(path, maxRate, 'tokens/s', (s) => s.tokensPerSecond, { atLeast: 0.7 }),
    [
      thousand,
      {
        name: `tokens lost, ${thousand} (${path})`,
        value: stat(of(thousand, path, (s) => s.lost)),
        atMost: 0,
        unit: ' tokens',
      },
    ],
    [
      thousand,
      {
        name: `streams without their end marker, ${thousand} (${path})`,
        value: stat(of(thousand, path, (s) => s.incomplete)),
        atMost: 0,
        unit: ' streams',
      },
    ],
  ]
  const list = OURS.flatMap(perPath)
    .filter(([scenario]) => figures.has(scenario))
    .map(([, target]) => target)
  const litellm = added(paced, 'ours', (s) => s.ttftP50)
  if (figures.has(paced) && PATHS.includes('ours') && PATHS.includes('direct'))
    console.log(
      `  LiteLLM publishes 3.25 ms of added latency per request (docs.litellm.ai/docs/proxy/perf). Our added time to first token over the direct path, ${paced}, p50: ${show(litellm, 2, ' ms')}; per token (which LiteLLM does not publish), p50: ${show(
        added(paced, 'ours', (s) => s.tokenP50),
        3,
        ' ms',
      )}.`,
    )
  targets(list)
  return list
}
