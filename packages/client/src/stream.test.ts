import { describe, expect, it } from 'vitest'
import { collect, formatEvent, openStream, useServer } from '../test/server'
import { createEventStream } from './stream'

const loopback = useServer()

const threeThenDone = (_: unknown, res: import('node:http').ServerResponse) => {
  openStream(res)
  res.write('retry: 0\n: hello\n\n')
  res.write(formatEvent({ id: '1', event: 'delta', data: 'a' }))
  res.write(formatEvent({ id: '2', event: 'delta', data: 'b\nc' }))
  res.end(formatEvent({ id: '3', event: 'done', data: '{}' }))
}

describe('createEventStream', () => {
  it('yields every event through for await, the done event last, then ends', async () => {
    const server = await loopback.start(threeThenDone)
    const { items, error } = await collect(createEventStream(`${server.origin}/s`))
    expect(error).toBeUndefined()
    expect(items).toEqual([
      { type: 'delta', data: 'a', lastEventId: '1' },
      { type: 'delta', data: 'b\nc', lastEventId: '2' },
      { type: 'done', data: '{}', lastEventId: '3' },
    ])
    expect(server.requests).toHaveLength(1)
  })

  it('calls onOpen, onEvent and onClose in order', async () => {
    const server = await loopback.start(threeThenDone)
    const calls: string[] = []
    await new Promise<void>((resolve) => {
      createEventStream(`${server.origin}/s`, {
        onOpen: (response) => calls.push(`open ${response.status}`),
        onEvent: (event) => calls.push(`event ${event.lastEventId}`),
        onClose: ({ reason }) => {
          calls.push(`close ${reason}`)
          resolve()
        },
      })
    })
    expect(calls).toEqual(['open 200', 'event 1', 'event 2', 'event 3', 'close done'])
  })

  it('sends Accept: text/event-stream and no Last-Event-ID on the first request', async () => {
    const server = await loopback.start(threeThenDone)
    await collect(createEventStream(`${server.origin}/s`))
    expect(server.requests[0]?.headers.accept).toBe('text/event-stream')
    expect(server.requests[0]?.lastEventId).toBeUndefined()
  })

  it('moves the snapshot through open, reconnecting, open and closed across a drop', async () => {
    const server = await loopback.start((_, res, index) => {
      if (index === 1) return threeThenDone(_, res)
      openStream(res)
      res.write(formatEvent({ id: '1', event: 'delta', data: 'a' }), () => res.destroy())
    })
    const stream = createEventStream(`${server.origin}/s`, { backoff: { initialMs: 0 } })
    const statuses = [stream.getSnapshot().status]
    stream.subscribe(() => {
      const { status } = stream.getSnapshot()
      if (status !== statuses.at(-1)) statuses.push(status)
    })
    await collect(stream)
    expect(statuses).toEqual(['connecting', 'open', 'reconnecting', 'open', 'closed'])
  })

  it('publishes a closed snapshot with counters once done', async () => {
    const server = await loopback.start(threeThenDone)
    const stream = createEventStream(`${server.origin}/s`)
    await collect(stream)
    const snapshot = stream.getSnapshot()
    expect(snapshot).toMatchObject({
      status: 'closed',
      closeReason: 'done',
      lastEventId: '3',
      events: 3,
      reconnects: 0,
      attempt: 0,
      error: undefined,
    })
    expect(snapshot.bytes).toBeGreaterThan(0)
    expect(snapshot.timeToFirstByteMs).toBeGreaterThanOrEqual(0)
    expect(Object.isFrozen(snapshot)).toBe(true)
  })
})
