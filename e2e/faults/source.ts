import { setImmediate, setTimeout as sleep } from 'node:timers/promises'
import type { EventInput, EventLog, Producer } from '@unbroken/server'
import type { ComparableEvent } from '../support/compare'

// Two-, three- and four-byte UTF-8 sequences, so a cut or a 1-byte segment lands inside a character.
const WORDS = [
  'héllo',
  'wörld',
  'ñandú',
  'Ω≈ç√',
  '日本語',
  'テキスト',
  'עברית',
  '😀',
  '👍🏽',
  '∑∫',
  'plain',
  'ascii',
]

/**
 * The source stream: `count` deterministic events carrying multi-byte text, every seventh one
 * multi-line. The same index always gives the same event, so any reader can be checked against it.
 */
export function sourceEvents(count: number): EventInput[] {
  const events: EventInput[] = []
  for (let i = 0; i < count; i++) {
    const words: string[] = []
    for (let w = 0; w < 3 + (i % 5); w++)
      words.push(WORDS[(i * 7 + w * 3) % WORDS.length] as string)
    const text = `#${i} ${words.join(' ')}`
    events.push({ event: 'delta', data: i % 7 === 0 ? `${text}\nsecond line ✓\nthird` : text })
  }
  return events
}

/**
 * A producer that appends `events`, pausing every `batch` events (one event-loop turn, or
 * `pauseMs`) so that readers attach, replay and tail while it is still running: a live stream,
 * like an LLM generating tokens, not a finished one.
 */
export function produce(events: readonly EventInput[], { batch = 25, pauseMs = 0 } = {}): Producer {
  return async (stream) => {
    for (const [index, event] of events.entries()) {
      if (stream.signal.aborted) return
      await stream.send(event)
      if (index % batch === batch - 1) await (pauseMs > 0 ? sleep(pauseMs) : setImmediate())
    }
  }
}

/** Everything the log holds for a finished stream, terminal event included: the reference a reader must match. */
export async function readLog(log: EventLog, streamId: string): Promise<ComparableEvent[]> {
  const events: ComparableEvent[] = []
  for await (const { id, event, data } of log.read(streamId))
    events.push({ type: event ?? 'message', id, data })
  return events
}
