/**
 * What a stream costs in Redis (issue 16, point 6: docs/deployment.md's sizing), measured on the
 * deployment itself: concurrent generations of the simulated model at a model's pace, through
 * nginx and both instances, each read to its end; then Redis's `used_memory` while they are all
 * finished and still within their TTL, against before.
 */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { parseSse } from '@unbroken/test-kit'
import { runPool } from '../support/pool'
import { startTopology } from './topology'

export interface RedisMemoryReport {
  readonly streams: number
  /** Tokens per stream, on average. */
  readonly tokensPerStream: number
  /** Bytes of `used_memory` a finished stream holds. */
  readonly bytesPerStream: number
  /** The same per 1,000 of its tokens (its fixed part included). */
  readonly bytesPer1000Tokens: number
  /** Events (a delta merges the tokens that arrive together) per 1,000 tokens. */
  readonly eventsPer1000Tokens: number
}

export async function measureRedisMemory(options: {
  readonly streams: number
  readonly tokensPerSecond: number
}): Promise<RedisMemoryReport> {
  const topology = await startTopology({
    instanceEnv: {
      UNBROKEN_SIM_RATE: String(options.tokensPerSecond),
      UNBROKEN_SIM_TTFT: '10ms',
      UNBROKEN_STREAM_TTL: '1h',
      UNBROKEN_MAX_STREAMS: String(options.streams),
    },
  })
  try {
    const usedMemory = async () => {
      const { stdout } = await promisify(execFile)('redis-cli', [
        '-p',
        String(topology.redis.port),
        'info',
        'memory',
      ])
      return Number(/^used_memory:(\d+)/m.exec(stdout)?.[1])
    }
    const before = await usedMemory()
    const streams = await runPool(
      Array.from({ length: options.streams }, (_, index) => index),
      options.streams,
      (index) => generate(topology.origin, `Sizing question ${index}`, index),
    )
    const bytes = (await usedMemory()) - before
    const tokens = streams.reduce((sum, stream) => sum + stream.tokens, 0)
    const events = streams.reduce((sum, stream) => sum + stream.events, 0)
    return {
      streams: options.streams,
      tokensPerStream: tokens / options.streams,
      bytesPerStream: bytes / options.streams,
      bytesPer1000Tokens: (bytes * 1000) / tokens,
      eventsPer1000Tokens: (events * 1000) / tokens,
    }
  } finally {
    await topology.close()
  }
}

/** One generation read to its end: its output tokens (from `usage`) and its events. */
async function generate(
  origin: string,
  question: string,
  seed: number,
): Promise<{ tokens: number; events: number }> {
  const response = await fetch(`${origin}/v1/streams`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ messages: [{ role: 'user', content: question }], seed }),
  })
  const events = parseSse(await response.text())
  const usage = events.find((event) => event.event === 'usage')
  if (!events.some((event) => event.event === 'done') || !usage) {
    throw new Error(`${question}: the stream did not end with usage and done (${response.status})`)
  }
  return {
    tokens: (JSON.parse(usage.data) as { outputTokens: number }).outputTokens,
    events: events.filter((event) => event.data !== '').length,
  }
}

/** The figures, one per line. */
export function formatRedisMemoryReport(report: RedisMemoryReport): string {
  const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`
  return [
    `Redis memory (${report.streams} finished streams, ${report.tokensPerStream.toFixed(0)} tokens each on average):`,
    `  per stream:          ${kb(report.bytesPerStream)}`,
    `  per 1,000 tokens:    ${kb(report.bytesPer1000Tokens)} (${report.eventsPer1000Tokens.toFixed(0)} events)`,
  ].join('\n')
}
