import { afterEach, describe, expect, it, vi } from 'vitest'
import { collect, doneEvent, formatEvent, openStream, useServer } from '../test/server'
import { createEventStream } from './stream'

const loopback = useServer()
afterEach(() => {
  vi.useRealTimers()
  vi.unstubAllGlobals()
})

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

  it('counts body bytes and the time from the request to its first body byte', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    const body = `: warming up\n\n${formatEvent({ id: '1', data: 'é' })}${doneEvent}`
    const { stream } = await loopback.read((_, res) => {
      // Only Date is faked: the clock stands still except for this step between request and body.
      vi.setSystemTime(Date.now() + 250)
      openStream(res)
      res.end(body)
    })
    expect(stream.getSnapshot()).toMatchObject({
      bytes: Buffer.byteLength(body),
      timeToFirstByteMs: 250,
      events: 2,
    })
  })
})

describe('options', () => {
  it('sends every request through the injected fetch', async () => {
    const fetch = vi.fn(globalThis.fetch)
    const { server } = await loopback.read(threeThenDone, { fetch })
    expect(fetch).toHaveBeenCalledOnce()
    expect(fetch.mock.calls[0]?.[0]).toBe(`${server.origin}/s`)
  })

  it("ends, without a reconnect, on another protocol's terminal marker given as isDone", async () => {
    // OpenAI-compatible APIs end with `data: [DONE]` and close; they send no Content-Location.
    const { items, stream, server } = await loopback.read(
      (_, res) => {
        openStream(res)
        res.end('data: {"choices":[]}\n\ndata: [DONE]\n\n')
      },
      { method: 'POST', isDone: (event) => event.data === '[DONE]' },
    )
    expect(items.map((event) => event.data)).toEqual(['{"choices":[]}', '[DONE]'])
    expect(stream.getSnapshot().closeReason).toBe('done')
    expect(server.requests).toHaveLength(1)
  })

  it('keeps reading in a hidden page: no visibility-based disconnect', async () => {
    const document = { visibilityState: 'hidden', hidden: true, addEventListener: vi.fn() }
    vi.stubGlobal('document', document)
    const { items, server } = await loopback.read(threeThenDone)
    expect(items).toHaveLength(3)
    expect(server.requests).toHaveLength(1)
    expect(document.addEventListener).not.toHaveBeenCalled()
  })
})
