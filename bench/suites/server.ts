// @unbroken/server against raw node:http, better-sse, Hono `streamSSE` and h3, on the payload
// module's chat-completion chunks, every contender honouring backpressure. Each contender is its
// own child process (so heap, RSS and CPU are its own); rounds interleave them, so machine noise
// drifts over all alike. The physical limit is raw node:http doing the same work (format each
// event) and coalescing writes: the better of 64 KiB per write and 64 events per write, per round.
import { setTimeout as sleep } from 'node:timers/promises'
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
import { type Child, CONTENDERS, type Contender, withChildren } from '../server/children'
import { latency, openIdle, throughput } from '../server/clients'

// BENCH_CONTENDERS=raw,ours-node,… picks contenders (targets whose contenders are absent are
// skipped). h3 is in no target and slow, so the default leaves it out to keep a run near 10 min;
// the base-* contenders run only against a BENCH_BASELINE copy of the server.
const chosen =
  process.env.BENCH_CONTENDERS?.split(',') ??
  CONTENDERS.filter((c) => c !== 'h3' && !c.startsWith('base-'))
const among = (list: readonly Contender[]) => list.filter((c) => chosen.includes(c))
// BENCH_PARTS=throughput,latency,idle picks the parts to run (all by default), e.g. only the
// throughput scenarios while profiling the writer; targets of a part not run are skipped.
const parts = process.env.BENCH_PARTS?.split(',') ?? ['throughput', 'latency', 'idle']

const SCENARIOS = [
  { name: '1×200k', clients: 1, events: 200_000 },
  { name: '50×20k', clients: 50, events: 20_000 },
] as const
type Scenario = (typeof SCENARIOS)[number]['name']
const LIMITS: readonly Contender[] = ['raw-64k', 'raw-64ev']
const LATENCY_EVENTS = 2000
const IDLE_CONNECTIONS = 1000
// Short, so that the CPU window sees several keepalive rounds; every contender uses the same.
const KEEPALIVE_MS = 250
const method = (c: Contender): 'GET' | 'POST' => (c.endsWith('-resumable') ? 'POST' : 'GET')

interface Figures {
  /** events/s per scenario, per contender, index = round. */
  rate: Map<Scenario, Map<Contender, number[]>>
  /** Server CPU µs per event, per scenario. */
  cpu: Map<Scenario, Map<Contender, number[]>>
  /** p99 (and p50) ms when streamed beside raw, and raw's p99 in the same round. */
  p50: Map<Contender, number[]>
  p99: Map<Contender, number[]>
  rawP99: Map<Contender, number[]>
  heap: Map<Contender, number[]>
  rss: Map<Contender, number[]>
  keepAliveCpu: Map<Contender, number[]>
}

const percentile = (samples: number[], q: number) => {
  const sorted = [...samples].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN
}
const push = <K>(map: Map<K, number[]>, key: K, value: number) =>
  map.set(key, [...(map.get(key) ?? []), value])

async function measureThroughput(figures: Figures): Promise<void> {
  const contenders = among(CONTENDERS)
  await withChildren(contenders, KEEPALIVE_MS, async (children) => {
    for (const scenario of SCENARIOS) {
      const cpu = new Map<Contender, number[]>()
      const rate = await interleave({
        contenders,
        label: `throughput ${scenario.name}`,
        measure: async (c, round) => {
          const child = children.get(c) as Child
          const cpuBefore = await child.ask('cpu')
          let perSecond: number
          try {
            perSecond = await throughput(
              { port: child.port, method: method(c) },
              scenario.clients,
              round < 0 ? scenario.events / 10 : scenario.events,
            )
          } catch (error) {
            // On a starved machine a client may stall past a server's drain timeout and be cut
            // (ECONNRESET): that round of that contender is lost and said so, not the whole run.
            console.log(`  ${c}: round ${round + 1} lost (${(error as Error).message})`)
            return Number.NaN
          }
          const used = (await child.ask('cpu')) - cpuBefore
          if (round >= 0) push(cpu, c, used / (scenario.clients * scenario.events))
          return perSecond
        },
      })
      figures.rate.set(scenario.name, rate)
      figures.cpu.set(scenario.name, cpu)
    }
  })
}

// On a shared box p99 is set by whoever else runs: measured one after the other, ratios swung from
// 0.3× to 30×. So each contender streams at the same time as a raw stream, a stall hits both, and
// the ratio is taken within the pair.
async function measureLatency(figures: Figures): Promise<void> {
  const contenders = among(['ours-node', 'ours-resumable', 'ours-web', 'better-sse', 'hono'])
  if (!chosen.includes('raw') || contenders.length === 0) return
  await withChildren(['raw', ...contenders], KEEPALIVE_MS, async (children) => {
    const target = (c: Contender) => ({ port: (children.get(c) as Child).port, method: method(c) })
    await interleave({
      contenders,
      label: 'latency',
      measure: async (c, round) => {
        const events = round < 0 ? 200 : LATENCY_EVENTS
        const [raw, own] = await Promise.all([
          latency(target('raw'), events),
          latency(target(c), events),
        ])
        if (round >= 0) {
          push(figures.p50, c, percentile(own, 0.5))
          push(figures.p99, c, percentile(own, 0.99))
          push(figures.rawP99, c, percentile(raw, 0.99))
        }
        return 0
      },
    })
  })
}

// Heap per idle connection after a settle and two forced GCs: what a connection keeps alive. RSS
// rides along as context (it moves with allocator pages, not only with what is alive).
async function measureIdle(figures: Figures): Promise<void> {
  const contenders = among(['raw', 'ours-node', 'ours-web', 'better-sse', 'hono', 'h3'])
  await withChildren(contenders, KEEPALIVE_MS, async (children) => {
    await interleave({
      contenders,
      label: 'idle',
      measure: async (c, round) => {
        const child = children.get(c) as Child
        const heapBefore = await child.ask('heap')
        const rssBefore = await child.ask('rss')
        const close = await openIdle({ port: child.port, method: method(c) }, IDLE_CONNECTIONS)
        await sleep(500)
        const heap = ((await child.ask('heap')) - heapBefore) / IDLE_CONNECTIONS
        const rss = ((await child.ask('rss')) - rssBefore) / IDLE_CONNECTIONS
        const cpuBefore = await child.ask('cpu')
        const started = performance.now()
        await sleep(1000)
        const cpu = ((await child.ask('cpu')) - cpuBefore) / (performance.now() - started)
        close()
        await sleep(300)
        if (round >= 0) {
          push(figures.heap, c, heap)
          push(figures.rss, c, rss)
          push(figures.keepAliveCpu, c, cpu)
        }
        return heap
      },
    })
  })
}

export default async function serverSuite(): Promise<Target[]> {
  const figures: Figures = {
    rate: new Map(),
    cpu: new Map(),
    p50: new Map(),
    p99: new Map(),
    rawP99: new Map(),
    heap: new Map(),
    rss: new Map(),
    keepAliveCpu: new Map(),
  }
  if (parts.includes('throughput')) await measureThroughput(figures)
  if (parts.includes('latency')) await measureLatency(figures)
  if (parts.includes('idle')) await measureIdle(figures)
  return report(figures)
}

function report(figures: Figures): Target[] {
  const rate = (s: Scenario, c: Contender) => figures.rate.get(s)?.get(c) ?? []
  // The physical limit of a round: the better of the two ways raw node:http coalesces.
  const limit = (s: Scenario) =>
    rate(s, 'raw-64k').map((v, round) =>
      Math.max(v, ...LIMITS.map((l) => rate(s, l)[round] ?? Number.NaN)),
    )
  const cell = (value: Stat, digits = 2) => (Number.isNaN(value.median) ? '' : show(value, digits))
  const plain = (value: Stat, digits = 1) =>
    Number.isNaN(value.median)
      ? ''
      : `${fmt(value.median, digits)} (${fmt(value.low, digits)}–${fmt(value.high, digits)})`

  console.log(
    `\n  Payload: OpenAI chat-completion chunks (~230 B, JSON.stringify per event, with ids). Medians of ${ROUNDS} interleaved rounds (lowest–highest). The limit is raw node:http formatting each event and coalescing writes (best of 64 KiB / 64 events per write, per round).\n`,
  )
  for (const { name } of SCENARIOS) {
    console.log(`  ${name} (events/s delivered)`)
    table(
      among(CONTENDERS).map((c) => ({
        contender: c,
        'events/s': fmt(stat(rate(name, c)).median),
        'vs limit': cell(ratio(rate(name, c), limit(name))),
        'vs raw per-event': cell(ratio(rate(name, c), rate(name, 'raw'))),
        'server CPU µs/event': plain(stat(figures.cpu.get(name)?.get(c) ?? []), 2),
      })),
    )
    console.log('')
  }
  if (figures.p99.size > 0) {
    console.log(
      `  latency at 1 event/ms (${LATENCY_EVENTS} events, streamed beside a raw per-event stream)`,
    )
    table(
      [...figures.p99.keys()].map((c) => ({
        contender: c,
        'p50 ms': plain(stat(figures.p50.get(c) ?? []), 2),
        'p99 ms': plain(stat(figures.p99.get(c) ?? []), 2),
        'p99 vs raw (same round)': cell(
          ratio(figures.p99.get(c) ?? [], figures.rawP99.get(c) ?? []),
        ),
      })),
    )
  }
  if (figures.heap.size > 0) {
    console.log(
      `\n  ${IDLE_CONNECTIONS} idle connections, keepalive every ${KEEPALIVE_MS} ms (heap and RSS after a 500 ms settle and two forced GCs)`,
    )
    table(
      [...figures.heap.keys()].map((c) => ({
        contender: c,
        'heap KB/conn': plain(stat((figures.heap.get(c) ?? []).map((b) => b / 1024))),
        'vs raw': cell(ratio(figures.heap.get(c) ?? [], figures.heap.get('raw') ?? [])),
        'RSS KB/conn': plain(stat((figures.rss.get(c) ?? []).map((b) => b / 1024))),
        'keepalive CPU ms/s': plain(stat(figures.keepAliveCpu.get(c) ?? []), 2),
      })),
    )
  }

  const goals: Target[] = []
  const add = (needs: readonly Contender[], target: Target) => {
    if (needs.every((c) => chosen.includes(c)) && !Number.isNaN(target.value.median))
      goals.push(target)
  }
  for (const { name } of SCENARIOS) {
    add(['ours-node', ...LIMITS], {
      name: `Node writer ≥ 0.85× the coalesced raw limit, ${name}`,
      value: ratio(rate(name, 'ours-node'), limit(name)),
      atLeast: 0.85,
    })
    add(['ours-node', 'better-sse'], {
      name: `Node writer ≥ 2× better-sse (with backpressure), ${name}`,
      value: ratio(rate(name, 'ours-node'), rate(name, 'better-sse')),
      atLeast: 2,
      limit: ratio(rate(name, 'ours-node'), limit(name)),
    })
    add(['ours-web', 'hono'], {
      name: `Web writer ≥ 4× Hono streamSSE, ${name}`,
      value: ratio(rate(name, 'ours-web'), rate(name, 'hono')),
      atLeast: 4,
      limit: ratio(rate(name, 'ours-web'), limit(name)),
    })
    add(['ours-resumable', 'ours-node'], {
      name: `resumable registry (memory log) ≥ 0.7× the Node writer, ${name}`,
      value: ratio(rate(name, 'ours-resumable'), rate(name, 'ours-node')),
      atLeast: 0.7,
      limit: ratio(rate(name, 'ours-resumable'), limit(name)),
    })
  }
  add(['ours-node', 'raw'], {
    name: 'p99 latency at 1 event/ms ≤ 1.2× raw (same round)',
    value: ratio(figures.p99.get('ours-node') ?? [], figures.rawP99.get('ours-node') ?? []),
    atMost: 1.2,
  })
  add(['ours-node', 'raw'], {
    name: 'idle heap per connection ≤ 1.15× raw',
    value: ratio(figures.heap.get('ours-node') ?? [], figures.heap.get('raw') ?? []),
    atMost: 1.15,
  })
  targets(goals)
  return goals
}
