// Prometheus metrics (`GET /metrics`). Generation metrics are observed as streams run; connection
// metrics are read from the server hub's own counters at scrape time, so nothing is counted twice.
import type { EventHub } from '@unbroken/server'
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'
import type { StreamRecord } from './accounting'

/** The proxy's metrics and how streams report to them. */
export interface ProxyMetrics {
  readonly registry: Registry
  /** A generation started. */
  streamStarted(): void
  /** Time from the request to the first text, reasoning or tool call. */
  firstToken(seconds: number): void
  /** Time between two upstream chunks that carried output. */
  tokenGap(seconds: number): void
  /** A generation ended; its accounting record. */
  streamEnded(record: StreamRecord): void
}

const PREFIX = 'unbroken_proxy_'
// Latency buckets from 1 ms to 1 min: local models answer in ms, cloud prefill takes seconds.
const LATENCY_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]
const GAP_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5]
const DURATION_BUCKETS = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600]

/** Creates the registry; `hub` supplies connection counters at scrape time. */
export function createMetrics(hub: EventHub): ProxyMetrics {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry, prefix: PREFIX })
  const registers = [registry]

  const activeStreams = new Gauge({
    name: `${PREFIX}active_streams`,
    help: 'Generations running in this process.',
    registers,
  })
  new Gauge({
    name: `${PREFIX}active_connections`,
    help: 'Open SSE connections (POST streams and resumes).',
    registers,
    collect() {
      this.set(hub.metrics().activeStreams)
    },
  })
  const ttft = new Histogram({
    name: `${PREFIX}time_to_first_token_seconds`,
    help: 'Time from the request to the first output from the upstream.',
    buckets: LATENCY_BUCKETS,
    registers,
  })
  const gap = new Histogram({
    name: `${PREFIX}inter_token_gap_seconds`,
    help: 'Time between consecutive upstream chunks carrying output.',
    buckets: GAP_BUCKETS,
    registers,
  })
  // Observed per chunk: its one series bound once, so `observe` makes no closure per call.
  const gapSeries = gap.labels()
  const tokens = new Counter({
    name: `${PREFIX}tokens_total`,
    help: 'Tokens of finished generations, by direction and by whether the upstream reported them.',
    labelNames: ['direction', 'source'] as const,
    registers,
  })
  new Counter({
    name: `${PREFIX}resumes_total`,
    help: 'Connections that resumed a stream with a cursor.',
    registers,
    collect() {
      // The hub counts resumes on every stream, including finished ones and other instances'.
      this.reset()
      this.inc(hub.metrics().resumes)
    },
  })
  new Counter({
    name: `${PREFIX}replayed_events_total`,
    help: 'Events sent again to resuming connections from the log.',
    registers,
    collect() {
      this.reset()
      this.inc(hub.metrics().replayedEvents)
    },
  })
  const upstreamErrors = new Counter({
    name: `${PREFIX}upstream_errors_total`,
    help: 'Generations that ended with an upstream error, by code.',
    labelNames: ['code'] as const,
    registers,
  })
  new Counter({
    name: `${PREFIX}drain_timeouts_total`,
    help: 'Connections cut because the client did not read within the drain timeout.',
    registers,
    collect() {
      this.reset()
      this.inc(hub.metrics().drainTimeouts)
    },
  })
  new Counter({
    name: `${PREFIX}slow_client_disconnects_total`,
    help: 'Connections cut as slow clients (they resume from the log).',
    registers,
    collect() {
      this.reset()
      this.inc(hub.metrics().disconnects['slow-client'])
    },
  })
  const duration = new Histogram({
    name: `${PREFIX}stream_duration_seconds`,
    help: 'Generation duration, by outcome.',
    labelNames: ['status'] as const,
    buckets: DURATION_BUCKETS,
    registers,
  })
  const streams = new Counter({
    name: `${PREFIX}streams_total`,
    help: 'Generations ended, by status (complete or incomplete) and end.',
    labelNames: ['status', 'end'] as const,
    registers,
  })

  return {
    registry,
    streamStarted: () => activeStreams.inc(),
    firstToken: (seconds) => ttft.observe(seconds),
    tokenGap: (seconds) => gapSeries.observe(seconds),
    streamEnded(record) {
      activeStreams.dec()
      const source = record.usage.estimated ? 'estimated' : 'upstream'
      tokens.inc({ direction: 'input', source }, record.usage.inputTokens)
      tokens.inc({ direction: 'output', source }, record.usage.outputTokens)
      if (record.error?.code.startsWith('upstream-'))
        upstreamErrors.inc({ code: record.error.code })
      duration.observe({ status: record.status }, record.durationMs / 1000)
      streams.inc({ status: record.status, end: record.end })
    },
  }
}
