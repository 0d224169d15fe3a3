import { createEventStream, type EventStreamOptions } from '@unbroken/client'
import { createRedisEventLog } from '@unbroken/redis'
import type { EventLog } from '@unbroken/server'
import {
  type Child as Instance,
  type RedisServer,
  startChild,
  startRedisServer,
} from '@unbroken/test-kit'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { assertSameEvents, type ComparableEvent } from '../support/compare'
import { collect } from '../support/read'
import { readLog, sourceEvents } from './source'

// The source without ids (each log assigns its own), to check what a reader got against it.
const SOURCE: readonly ComparableEvent[] = sourceEvents(2_000).map(({ event, data }) => ({
  type: event ?? 'message',
  id: '',
  data,
}))
// Killed after this many events: mid-stream, with most of the generation still to come.
const KILL_AFTER = 300

// While an instance is down, retry every 100 ms for up to 30 s: longer than a restart takes.
const patient: EventStreamOptions = { maxAttempts: 300, shouldRetry: ({ retry }) => retry && 100 }

const INSTANCE = `${import.meta.dirname}/instance.ts`
const instances: Instance[] = []
const start = async (env: Record<string, string>) => {
  const instance = await startChild(INSTANCE, env)
  instances.push(instance)
  return instance
}
afterEach(async () => {
  await Promise.all(instances.splice(0).map((instance) => instance.kill()))
})

/**
 * Ends `instance` once the reader has `KILL_AFTER` events, by a crash (SIGKILL) or a deploy
 * (SIGTERM), then starts its replacement on the same port.
 */
function restartMidStream(
  instance: Instance,
  env: Record<string, string>,
  how: 'kill' | 'stop' = 'kill',
) {
  let restarted: Promise<Instance> | undefined
  let seen = 0
  return {
    onEvent: () => {
      if (++seen !== KILL_AFTER) return
      restarted = instance[how]().then(() => start({ ...env, PORT: String(instance.port) }))
    },
    restarted: () => restarted,
  }
}

/** Two instances on one Redis log: a stream produced on the first, read through the second. */
async function produceElsewhere(env: Record<string, string>) {
  const [producing, serving] = await Promise.all([start(env), start(env)])
  const response = await fetch(`${producing.origin}/start`, { method: 'POST' })
  const { url } = (await response.json()) as { url: string }
  return { serving, url }
}

const streamIdOf = (url: string) => new URL(url, 'http://x').pathname.split('/').pop() ?? ''
const withoutIds = (events: readonly ComparableEvent[]) =>
  events.map(({ type, data }) => ({ type, id: '', data }))

describe('a server restart with the memory log', () => {
  it('fails the resume with a clear resume-failed (404), never a hang', {
    timeout: 60_000,
  }, async () => {
    const first = await start({})
    const restart = restartMidStream(first, {})
    const stream = createEventStream(`${first.origin}/streams`, {
      method: 'POST',
      ...patient,
      onEvent: restart.onEvent,
    })
    const { events, error, snapshot } = await collect(stream, { timeoutMs: 40_000 })
    await restart.restarted()
    expect(error).toMatchObject({ code: 'resume-failed', status: 404 })
    expect(snapshot.closeReason).toBe('error')
    expect(events.length).toBeGreaterThanOrEqual(KILL_AFTER)
    assertSameEvents(
      { scenario: 'memory log, server restarted' },
      SOURCE.slice(0, events.length),
      withoutIds(events),
    )
  })
})

describe('a restart of the serving instance with the Redis log', () => {
  let redis: RedisServer | undefined
  let log: EventLog
  let env: Record<string, string>

  beforeAll(async () => {
    redis = await startRedisServer()
    if (!redis) return
    env = { REDIS_URL: redis.url, KEY_PREFIX: `e2e-${process.pid}:`, LEASE_MS: '1000' }
    log = createRedisEventLog({ url: redis.url, keyPrefix: env.KEY_PREFIX })
  })
  afterAll(async () => {
    await log?.close()
    await redis?.stop()
  })

  it('resumes with nothing lost when the producer runs in another process', {
    timeout: 60_000,
  }, async (context) => {
    if (!redis) return context.skip('redis-server is not installed')
    const { serving, url } = await produceElsewhere(env)
    const restart = restartMidStream(serving, env)
    const stream = createEventStream(`${serving.origin}${url}`, {
      ...patient,
      onEvent: restart.onEvent,
    })
    const { events, error } = await collect(stream, { timeoutMs: 40_000 })
    expect(await restart.restarted()).toBeDefined()
    expect(error).toBeUndefined()
    assertSameEvents(
      { scenario: 'Redis log, serving instance restarted' },
      await readLog(log, streamIdOf(url)),
      events,
    )
    assertSameEvents(
      { scenario: 'Redis log, serving instance restarted, against the source' },
      SOURCE,
      withoutIds(events.slice(0, -1)),
    )
  })

  it('resumes with nothing lost through a graceful restart (SIGTERM) of the serving instance', {
    timeout: 60_000,
  }, async (context) => {
    if (!redis) return context.skip('redis-server is not installed')
    const { serving, url } = await produceElsewhere(env)
    const restart = restartMidStream(serving, env, 'stop')
    const reasons: (string | undefined)[] = []
    const stream = createEventStream(`${serving.origin}${url}`, {
      ...patient,
      onEvent: restart.onEvent,
      onReconnect: ({ error }) => reasons.push(error.serverCode ?? error.code),
    })
    const { events, error } = await collect(stream, { timeoutMs: 40_000 })
    expect(await restart.restarted()).toBeDefined()
    expect(error).toBeUndefined()
    expect(reasons[0]).toBe('shutting-down')
    assertSameEvents(
      { scenario: 'Redis log, serving instance deployed' },
      await readLog(log, streamIdOf(url)),
      events,
    )
    assertSameEvents(
      { scenario: 'Redis log, serving instance deployed, against the source' },
      SOURCE,
      withoutIds(events.slice(0, -1)),
    )
  })

  it('delivers what was produced before the restart, then producer-lost, when the producer died with it', {
    timeout: 60_000,
  }, async (context) => {
    if (!redis) return context.skip('redis-server is not installed')
    const serving = await start(env)
    const restart = restartMidStream(serving, env)
    const stream = createEventStream(`${serving.origin}/streams`, {
      method: 'POST',
      ...patient,
      onEvent: restart.onEvent,
    })
    const { events, error } = await collect(stream, { timeoutMs: 40_000 })
    expect(await restart.restarted()).toBeDefined()
    expect(error).toMatchObject({ code: 'server-error', serverCode: 'producer-lost' })
    const logged = await readLogged(log, streamIdOf(stream.url))
    assertSameEvents({ scenario: 'Redis log, producing instance restarted' }, logged, events)
    expect(events.length).toBeGreaterThanOrEqual(KILL_AFTER)
    assertSameEvents(
      { scenario: 'Redis log, producing instance restarted, against the source' },
      SOURCE.slice(0, events.length),
      withoutIds(events),
    )
  })
})

/** Everything the log kept of a stream whose producer died: the read ends with `producer-lost`. */
async function readLogged(log: EventLog, streamId: string): Promise<ComparableEvent[]> {
  const events: ComparableEvent[] = []
  try {
    for await (const { id, event, data } of log.read(streamId))
      events.push({ type: event ?? 'message', id, data })
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'producer-lost') throw error
  }
  return events
}
