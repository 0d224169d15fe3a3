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

describe('exactly one terminal event, with a log that takes 5 ms per write', () => {
  // Slow writes widen the window between a terminal event's append and the stream's completion:
  // anything that can end the stream a second time does so inside it.
  async function runSlowly(producer: Producer<undefined>) {
    const inner = createMemoryEventLog()
    const slow = async <T>(write: () => Promise<T>) => {
      await new Promise((resolve) => setTimeout(resolve, 5))
      return write()
    }
    log = {
      ...inner,
      append: (streamId, input) => slow(() => inner.append(streamId, input)),
      complete: (streamId) => slow(() => inner.complete(streamId)),
    }
    const runner = createProducerRunner({ log })
    await log.create('s')
    runner.run('s', producer, undefined)
    return runner
  }

  const terminals = async () =>
    (await all()).filter((e) => e.event === 'done' || e.event === 'error').map((e) => e.data)

  it('when the producer returns while its own done is still being written', async () => {
    await runSlowly(async (stream) => {
      void stream.send({ event: 'done', data: '{"finishReason":"stop"}' })
    })
    expect(await terminals()).toEqual(['{"finishReason":"stop"}'])
  })

  it('when the producer throws while its own error is still being written', async () => {
    await runSlowly(async (stream) => {
      void stream.send({ event: 'error', data: '{"code":"upstream","message":"x"}' })
      throw new Error('and then it threw')
    })
    expect(await terminals()).toEqual(['{"code":"upstream","message":"x","retryable":false}'])
  })

  it('when a cancel arrives while the producer is writing its done', async () => {
    const h = held()
    await runSlowly(h.producer)
    const sent = h.stream().send({ event: 'done', data: '{"finishReason":"stop"}' })
    await log.cancel('s')
    h.release()
    await sent
    expect(await terminals()).toEqual(['{"finishReason":"stop"}'])
  })

  it('when stopAll comes while the producer is writing its done', async () => {
    const h = held()
    const runner = await runSlowly(h.producer)
    const sent = h.stream().send({ event: 'done', data: '{}' })
    await runner.stopAll()
    h.release()
    await sent
    expect(await terminals()).toEqual(['{}'])
  })
})

describe('what a producer may not send', () => {
  it.each([
    ['a number as data', { data: 42 }],
    ['an object as data', { data: { text: 'hi' } }],
    ['a number as event', { event: 5, data: 'x' }],
  ])('throws invalid-argument for %s, before anything is logged', async (_, input) => {
    const h = held()
    await runOne(h.producer)
    // What plain JavaScript (or a cast) can hand over at run time.
    const send = h.stream().send as (input: unknown) => Promise<string>
    expect(() => send(input)).toThrow(expect.objectContaining({ code: 'invalid-argument' }))
    h.release()
    expect((await all()).map((e) => e.event)).toEqual(['done'])
  })

  it('throws invalid-argument for auth-expired, which ends a connection and is the server’s', async () => {
    const h = held()
    await runOne(h.producer)
    expect(() => h.stream().send({ event: 'auth-expired', data: '{}' })).toThrow(
      expect.objectContaining({ code: 'invalid-argument' }),
    )
    h.release()
    expect((await all()).map((e) => e.event)).toEqual(['done'])
  })
})
