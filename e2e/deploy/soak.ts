/**
 * Load through the whole deployment: many concurrent generations from Node clients
 * (`@unbroken/client`) through a fault proxy (random cuts at the client's side), nginx and both
 * proxy instances on one Redis, while one instance at a time is restarted with SIGTERM. Every
 * answer is checked against the simulated model's text, and every client's events against what
 * the Redis log holds for its stream: nothing lost, nothing twice.
 */
import { loadavg } from 'node:os'
import { createEventStream, type EventStream, type UnbrokenClientError } from '@unbroken/client'
import { createRedisEventLog } from '@unbroken/redis'
import type { EventLog } from '@unbroken/server'
import { createFaultProxy, createRandom, describeSeed, type FaultProxy } from '@unbroken/test-kit'
import { type ComparableEvent, describeFirstDifference } from '../support/compare'
import { runPool } from '../support/pool'
import { type Collected, collect } from '../support/read'
import { type AskBody, simulatedAnswer } from './answer'
import type { ProxyInstance } from './instance'
import { readLogged } from './log'
import { startTopology, type Topology } from './topology'

export interface DeploySoakOptions {
  /** Clients streaming at once; each asks again as soon as its answer is complete. */
  readonly streams: number
  /** No client asks anything new after this long. */
  readonly durationMs: number
  /** Clients start one after the other over this long, as users arrive, not all in one instant. */
  readonly rampMs: number
  /** The simulated model's tokens per second, per generation. */
  readonly tokensPerSecond: number
  /** Each answer's length in tokens (`maxTokens`), so generations are as long as a test can afford. */
  readonly tokensPerAnswer: number
  /** Every this many ms, each open connection is cut with probability `cutProbability`. */
  readonly cutEveryMs: number
  readonly cutProbability: number
  /** Every this many ms, one instance (chosen at random) is stopped with SIGTERM and started again. */
  readonly restartEveryMs: number
  /** How long a finished stream stays in Redis. */
  readonly streamTtlMs: number
  /** Wait for the TTL after the run and sample memory again (the full soak's leak figure). */
  readonly memoryAfterTtl: boolean
  readonly seed: number
}

/** RSS of one instance slot (a restart is a new process: peak covers all of them). */
export interface InstanceMemory {
  readonly before: number
  readonly peak: number
  /** `undefined` when the run did not wait for the TTL. */
  readonly afterTtl: number | undefined
  readonly restarts: number
}

export interface DeploySoakReport {
  readonly seed: number
  readonly topology: string
  /** The machine's 1-minute load average at the start and at the end of the run. */
  readonly loadAverage: readonly [number, number]
  readonly streams: number
  readonly generations: number
  readonly events: number
  readonly eventsPerSecond: number
  readonly cuts: number
  readonly restarts: number
  /** Connections a client opened after its first one, over every generation. */
  readonly resumes: number
  readonly lost: number
  readonly duplicated: number
  /** Time from a client noticing a cut (any cause) to the next event it delivered, in ms. */
  readonly cutToEventMs: { readonly count: number; readonly p50: number; readonly p99: number }
  readonly memory: Readonly<Record<string, InstanceMemory>>
  /** Generations that did not end with `done` and the model's exact text. */
  readonly failed: number
  /** Failed generations by how they failed (`http-status 504`, `resume-failed`, `events differ`…). */
  readonly failedBy: Readonly<Record<string, number>>
  /** Scenario, seed, first differing event and log lines of the first failed generations. */
  readonly failures: readonly string[]
}

interface GenerationResult {
  readonly events: number
  readonly resumes: number
  readonly lost: number
  readonly duplicated: number
  readonly cutToEventMs: readonly number[]
  readonly failure: string | undefined
  /** How it failed, in a few words, to count failures by kind. */
  readonly failedAs?: string
}

const MB = 1024 * 1024

export async function runDeploySoak(options: DeploySoakOptions): Promise<DeploySoakReport> {
  const topology = await startTopology({
    instanceEnv: {
      UNBROKEN_SIM_RATE: String(options.tokensPerSecond),
      UNBROKEN_SIM_TTFT: '300ms',
      UNBROKEN_STREAM_TTL: `${options.streamTtlMs}ms`,
      UNBROKEN_MAX_STREAMS: String(options.streams * 4),
      // A restart lets every running generation finish into the log, however slow the machine.
      UNBROKEN_SHUTDOWN_GRACE: '300s',
    },
  })
  const proxy = await createFaultProxy({ targetPort: topology.nginx.port })
  const log = createRedisEventLog({ url: topology.redis.url })
  const memory = createMemoryWatch(topology.instances)
  const loadBefore = loadavg()[0] ?? 0
  try {
    await memory.sample()
    const before = memory.current()
    const random = createRandom(options.seed)
    const cutter = setInterval(() => {
      for (const connection of proxy.connections) {
        // A POST cut before its response head leaves no Content-Location to resume from (the
        // client rightly refuses to send the body twice); the head comes with the first bytes.
        if (connection.closed || connection.cut || connection.delivered === 0) continue
        if (random() < options.cutProbability) connection.cutNow()
      }
    }, options.cutEveryMs)
    const sampler = setInterval(() => void memory.sample(), 1_000)
    const deadline = Date.now() + options.durationMs
    const restarts = restartRandomly(topology, random, options.restartEveryMs, deadline)
    // Awaited once the clients are done; until then a failed restart must not crash the run.
    restarts.catch(() => {})
    const started = Date.now()
    const perClient = await runPool(
      Array.from({ length: options.streams }, (_, index) => index),
      options.streams,
      async (client) => {
        await new Promise((resolve) =>
          setTimeout(resolve, (client * options.rampMs) / options.streams),
        )
        return askUntil(deadline, proxy, log, options, client)
      },
    )
    const elapsedMs = Date.now() - started
    clearInterval(cutter)
    const restartCount = await restarts
    clearInterval(sampler)
    let after: Record<string, number> = {}
    if (options.memoryAfterTtl) {
      // Nothing runs any more: once the finished streams' TTL passed, their memory must be free.
      await new Promise((resolve) => setTimeout(resolve, options.streamTtlMs + 2_000))
      await memory.sample()
      after = memory.current()
    }
    const results = perClient.flat()
    const latencies = results.flatMap((r) => r.cutToEventMs).sort((a, b) => a - b)
    const events = results.reduce((n, r) => n + r.events, 0)
    const sum = (pick: (r: GenerationResult) => number) => results.reduce((n, r) => n + pick(r), 0)
    return {
      seed: options.seed,
      topology: topology.summary(),
      loadAverage: [loadBefore, loadavg()[0] ?? 0],
      streams: options.streams,
      generations: results.length,
      events,
      eventsPerSecond: Math.round((events * 1000) / elapsedMs),
      cuts: proxy.connections.filter((c) => c.cut).length,
      restarts: restartCount,
      resumes: sum((r) => r.resumes),
      lost: sum((r) => r.lost),
      duplicated: sum((r) => r.duplicated),
      cutToEventMs: {
        count: latencies.length,
        p50: percentile(latencies, 0.5),
        p99: percentile(latencies, 0.99),
      },
      memory: Object.fromEntries(
        topology.instances.map((instance) => [
          instance.name,
          {
            before: before[instance.name] ?? 0,
            peak: memory.peak(instance.name),
            afterTtl: after[instance.name],
            restarts: memory.restarts(instance.name),
          },
        ]),
      ),
      failed: results.filter((r) => r.failure).length,
      failedBy: countBy(results.flatMap((r) => (r.failure ? [r.failedAs ?? 'other'] : []))),
      failures: results
        .flatMap((r) => (r.failure ? [r.failure] : []))
        .slice(0, 3)
        .map(
          (failure) =>
            `${failure}\n  topology: ${topology.summary()}\n${storyOf(topology, failure)}`,
        ),
    }
  } finally {
    await log.close()
    await proxy.close()
    await topology.close()
  }
}

/** One client: asks, reads the answer to its end, checks it, and asks again until `deadline`. */
async function askUntil(
  deadline: number,
  proxy: FaultProxy,
  log: EventLog,
  options: DeploySoakOptions,
  client: number,
): Promise<GenerationResult[]> {
  const results: GenerationResult[] = []
  for (let turn = 0; Date.now() < deadline; turn++) {
    results.push(await askOnce(proxy, log, options, client, turn))
  }
  return results
}

async function askOnce(
  proxy: FaultProxy,
  log: EventLog,
  { seed, tokensPerAnswer }: DeploySoakOptions,
  client: number,
  turn: number,
): Promise<GenerationResult> {
  const scenario = `deploy soak, client ${client}, turn ${turn}`
  const body: AskBody = {
    messages: [{ role: 'user', content: `Soak question ${client}.${turn}` }],
    seed: seed + client * 1_000 + turn,
    maxTokens: tokensPerAnswer,
  }
  const cutToEventMs: number[] = []
  let cutAt: number | undefined
  // Named, so that nginx's access log shows which request lines belong to this generation.
  const idempotencyKey = `soak-${seed}-${client}-${turn}`
  const stream: EventStream = createEventStream(`${proxy.origin}/v1/streams`, {
    method: 'POST',
    body: JSON.stringify(body),
    idempotencyKey,
    // One TCP connection per request, so a cut made by the fault proxy lands in this request's
    // response and never in the head of a later POST that reused the connection.
    headers: { 'content-type': 'application/json', connection: 'close' },
    // While an instance restarts, its streams resume through the other one: be patient.
    maxAttempts: 30,
    random: createRandom(seed + client),
    onReconnect: () => {
      cutAt ??= performance.now()
    },
    onEvent: () => {
      if (cutAt === undefined) return
      cutToEventMs.push(performance.now() - cutAt)
      cutAt = undefined
    },
  })
  const failed = (why: string, failedAs: string): GenerationResult => ({
    events: 0,
    resumes: 0,
    lost: 0,
    duplicated: 0,
    cutToEventMs,
    failure: `${scenario}, ${describeSeed(seed)}, Idempotency-Key ${idempotencyKey}: ${why}`,
    failedAs,
  })
  let collected: Collected
  try {
    collected = await collect(stream, { timeoutMs: 120_000, what: scenario })
  } catch (error) {
    return failed(String(error), 'no end')
  }
  const { events, snapshot } = collected
  if (snapshot.closeReason !== 'done') {
    return failed(
      `${snapshot.url} ended with ${snapshot.closeReason} after ${events.length} events: ${describeError(snapshot.error)}`,
      [snapshot.error?.code ?? snapshot.closeReason, snapshot.error?.status]
        .filter(Boolean)
        .join(' '),
    )
  }
  let reference: ComparableEvent[]
  try {
    reference = await readLogged(log, new URL(snapshot.url).pathname.split('/').pop() ?? '')
  } catch (error) {
    return failed(
      `${snapshot.url} ended with done, but reading its log failed: ${String(error)}`,
      'log unreadable',
    )
  }
  const ids = events.map((event) => event.id)
  const delivered = new Set(ids)
  const text = events
    .filter((event) => event.type === 'delta')
    .map((event) => (JSON.parse(event.data) as { text?: string }).text ?? '')
    .join('')
  const expected = await simulatedAnswer(body)
  const difference = describeFirstDifference(
    { scenario: `${scenario}, Idempotency-Key ${idempotencyKey}`, seed },
    reference,
    events,
  )
  return {
    events: events.length,
    resumes: snapshot.reconnects,
    lost: reference.filter((event) => !delivered.has(event.id)).length,
    duplicated: ids.length - delivered.size,
    cutToEventMs,
    failure:
      difference ??
      (text === expected
        ? undefined
        : `${scenario}, ${describeSeed(seed)}, Idempotency-Key ${idempotencyKey}: text differs from the simulated model's at character ${firstDifferentCharacter(expected, text)}`),
    failedAs: difference ? 'events differ' : 'text differs',
  }
}

/** Everything a client error says, for a failure message. */
function describeError(error: UnbrokenClientError | undefined): string {
  if (!error) return 'no error'
  const { code, status, serverCode, message, body } = error
  return JSON.stringify({ code, status, serverCode, message, body })
}

/**
 * Until `deadline`, every `everyMs`: one instance at random gets SIGTERM (a deploy: it drains its
 * streams into the log) and is started again once it exited. Resolves to how many restarts ran.
 */
async function restartRandomly(
  topology: Topology,
  random: () => number,
  everyMs: number,
  deadline: number,
): Promise<number> {
  let count = 0
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, everyMs))
    if (Date.now() > deadline) return count
    const instance = topology.instances[random() < 0.5 ? 0 : 1]
    await instance.stop()
    await instance.start()
    count++
  }
}

/** Samples each instance's RSS from its own `/metrics` (prom-client's process metrics). */
function createMemoryWatch(instances: readonly ProxyInstance[]) {
  const latest: Record<string, number> = {}
  const peaks: Record<string, number> = {}
  const pids: Record<string, Set<number>> = {}
  const sampleOne = async ({ name, pid, origin }: ProxyInstance) => {
    if (pid === undefined) return
    const rss = await residentBytes(origin)
    if (rss === undefined) return
    latest[name] = rss
    peaks[name] = Math.max(peaks[name] ?? 0, rss)
    const seen = pids[name] ?? new Set()
    seen.add(pid)
    pids[name] = seen
  }
  return {
    sample: () => Promise.all(instances.map(sampleOne)),
    current: () => ({ ...latest }),
    peak: (name: string) => peaks[name] ?? 0,
    restarts: (name: string) => Math.max(0, (pids[name]?.size ?? 1) - 1),
  }
}

async function residentBytes(origin: string): Promise<number | undefined> {
  try {
    const text = await (await fetch(`${origin}/metrics`)).text()
    const match = /^unbroken_proxy_process_resident_memory_bytes (\d+)/m.exec(text)
    return match ? Number(match[1]) : undefined
  } catch {
    // Between SIGTERM and the restart the instance does not answer; the next sample will.
    return undefined
  }
}

function countBy(kinds: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const kind of kinds) counts[kind] = (counts[kind] ?? 0) + 1
  return counts
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] as number
}

function firstDifferentCharacter(expected: string, got: string): string {
  let index = 0
  while (index < expected.length && expected[index] === got[index]) index++
  return `${index} (expected ${JSON.stringify(expected.slice(index, index + 40))}, got ${JSON.stringify(got.slice(index, index + 40))})`
}

/**
 * The log lines that tell a failed generation's story: every line of either instance (all
 * processes, restarts included) and of nginx's logs that names its stream or its POST's
 * Idempotency-Key, plus every error the instances logged.
 */
function storyOf(topology: Topology, failure: string): string {
  const names = [
    /\/v1\/streams\/([\w-]+)/.exec(failure)?.[1],
    /Idempotency-Key ([\w-]+)/.exec(failure)?.[1],
  ].filter((name) => name !== undefined)
  const relevant = (line: string) =>
    names.some((name) => line.includes(name)) || /^\{"level":[56]0/.test(line)
  const sections = [
    ...topology.instances.map((instance) => ({
      name: `instance ${instance.name}`,
      lines: instance.output().split('\n'),
    })),
    { name: 'nginx', lines: topology.nginx.output().split('\n') },
  ]
  return sections
    .map(({ name, lines }) => {
      const picked = lines.filter(relevant)
      return `  ${name}, ${picked.length} relevant lines:\n${picked.slice(-40).join('\n')}`
    })
    .join('\n')
}

/** The figures, one per line. */
export function formatDeploySoakReport(report: DeploySoakReport): string {
  const mb = (bytes: number) => `${(bytes / MB).toFixed(1)} MB`
  return [
    `deploy soak, ${describeSeed(report.seed)}`,
    `  topology:          ${report.topology}`,
    `  load average:      ${report.loadAverage.map((load) => load.toFixed(1)).join(' → ')} (2 cores)`,
    `  clients:           ${report.streams} concurrent, ${report.generations} generations, ${report.failed} failed`,
    `  events:            ${report.events} (${report.eventsPerSecond}/s)`,
    `  cuts / restarts:   ${report.cuts} client cuts, ${report.restarts} SIGTERM restarts`,
    `  resumes:           ${report.resumes}`,
    `  lost / duplicated: ${report.lost} / ${report.duplicated}`,
    `  cut → next event:  p50 ${report.cutToEventMs.p50.toFixed(0)} ms, p99 ${report.cutToEventMs.p99.toFixed(0)} ms (${report.cutToEventMs.count} cuts)`,
    ...Object.entries(report.memory).map(
      ([name, m]) =>
        `  RSS of ${name}:          before ${mb(m.before)}, peak ${mb(m.peak)}, after TTL ${m.afterTtl === undefined ? 'not measured' : mb(m.afterTtl)} (${m.restarts} restarts)`,
    ),
    ...Object.entries(report.failedBy).map(([kind, count]) => `  failed as ${kind}: ${count}`),
    ...report.failures.map((failure) => `  FAILED ${failure}`),
  ].join('\n')
}
