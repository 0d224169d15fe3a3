import { afterEach, describe, expect, it, vi } from 'vitest'
import type { EventLog, LoggedEvent } from './log'
import { createMemoryEventLog, type MemoryEventLogOptions } from './memory-log'
import { createProducerRunner, type Producer, type ProducerStream } from './resumable-producer'

let log: EventLog
afterEach(async () => {
  await log.close()
})

async function runOne(
  producer: Producer<undefined>,
  onError?: (error: unknown) => void,
  limits?: MemoryEventLogOptions,
) {
  log = createMemoryEventLog(limits)
  const runner = createProducerRunner({ log, onError })
  await log.create('s')
  runner.run('s', producer, undefined)
  return runner
}

async function all(): Promise<LoggedEvent[]> {
  const out: LoggedEvent[] = []
  for await (const event of log.read('s')) out.push(event)
  return out
}

/** A producer that hands its stream to the test and waits until told to return. */
function held() {
  let release: () => void = () => {}
  const gate = new Promise<void>((resolve) => {
    release = resolve
  })
  let stream: ProducerStream | undefined
  const producer: Producer<undefined> = async (s) => {
    stream = s
    await gate
  }
  return { producer, release, stream: () => stream as ProducerStream }
}

describe('createProducerRunner', () => {
  it('ends the stream with done {} when the producer returns', async () => {
    await runOne(async (stream) => {
      await stream.send({ event: 'delta', data: 'a' })
    })
    expect((await all()).map((e) => [e.event, e.data])).toEqual([
      ['delta', 'a'],
      ['done', '{}'],
    ])
  })

  it('uses a done sent by the producer as the one terminal event', async () => {
    await runOne(async (stream) => {
      await stream.send({ event: 'done', data: '{"finish":"stop"}' })
    })
    expect((await all()).map((e) => e.data)).toEqual(['{"finish":"stop"}'])
  })

  it('refuses sends after the stream ended with stream-complete', async () => {
    const h = held()
    await runOne(h.producer)
    await h.stream().send({ event: 'done', data: '{}' })
    await expect(h.stream().send({ data: 'late' })).rejects.toMatchObject({
      code: 'stream-complete',
    })
    h.release()
  })

  it('throws invalid-argument for an event name with a line break', async () => {
    const h = held()
    await runOne(h.producer)
    expect(() => h.stream().send({ event: 'a\nid: 9', data: 'x' })).toThrow(
      expect.objectContaining({ code: 'invalid-argument' }),
    )
    h.release()
  })

  it('ends a cancelled stream at once, even if the producer ignores its signal', async () => {
    const h = held()
    await runOne(h.producer)
    await log.cancel('s')
    expect(h.stream().signal.reason).toBe('cancelled')
    expect((await all()).map((e) => [e.event, e.data])).toEqual([
      ['done', '{"reason":"cancelled"}'],
    ])
    h.release()
  })

  it('does not report or log the exception a cancelled producer throws', async () => {
    const onError = vi.fn()
    const h = held()
    let threw: () => void = () => {}
    const thrown = new Promise<void>((resolve) => {
      threw = resolve
    })
    await runOne(async (stream) => {
      await h.producer(stream, undefined)
      threw()
      throw stream.signal.reason
    }, onError)
    await log.cancel('s')
    h.release()
    await thrown
    // Let the runner's catch handler run before looking.
    await new Promise((resolve) => setTimeout(resolve, 0))
    expect((await all()).length).toBe(1)
    expect(onError).not.toHaveBeenCalled()
  })

  it('keeps the code and message of a typed error', async () => {
    await runOne(
      async (stream) => {
        await stream.send({ data: 'x'.repeat(1025) })
      },
      undefined,
      { maxBytes: 1024 },
    )
    const last = (await all()).at(-1)
    expect(last?.event).toBe('error')
    expect(JSON.parse(last?.data ?? '{}')).toMatchObject({
      code: 'stream-too-large',
      retryable: false,
    })
  })

  it('survives an onError hook that throws', async () => {
    await runOne(
      async () => {
        throw new Error('boom')
      },
      () => {
        throw new Error('logger down')
      },
    )
    expect((await all()).map((e) => e.event)).toEqual(['error'])
  })

  it('ends every running stream with a final producer-lost on stopAll', async () => {
    const h = held()
    const runner = await runOne(h.producer)
    await runner.stopAll()
    expect(runner.size).toBe(0)
    expect(h.stream().signal.reason).toBe('shutting-down')
    expect(JSON.parse((await all())[0]?.data ?? '{}')).toMatchObject({
      code: 'producer-lost',
      retryable: false,
    })
    h.release()
  })
})
