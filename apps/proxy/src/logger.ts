// Structured logs (pino, JSON lines on stdout): one line per stream lifecycle event and per
// server event, never one per token, so a busy proxy logs in proportion to streams, not tokens.
import { type DestinationStream, type Logger, pino } from 'pino'
import type { LogLevel } from './config'

export type { Logger }

/** A JSON logger at `level`; tests pass their own `destination` to read the lines. */
export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'unbroken-proxy', pid: process.pid },
      // Keys that could carry credentials never reach a log line, whoever logs them.
      redact: {
        paths: ['*.authorization', '*.token', '*.apiKey', '*.upstreamKey', '*.tokenSecret'],
        censor: '[redacted]',
      },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  )
}
