import type { ServerResponse } from 'node:http'
import { afterAll, describe, expect, it, vi } from 'vitest'
import {
  collect,
  formatEvent,
  openStream,
  trackUnhandledRejections,
  useServer,
} from '../test/server'
import { createEventStream } from './stream'
import type { CloseInfo, EventStream } from './types'

const unhandled = trackUnhandledRejections()
afterAll(() => {
  unhandled.stop()
  expect(unhandled.seen).toEqual([])
})

const loopback = useServer()

// Resolves with the request's socket closing: proof that the client let go of the connection.
const disconnected = (res: ServerResponse) => new Promise((resolve) => res.on('close', resolve))

const closed = (stream: EventStream) =>
  new Promise<void>((resolve) => {
    if (stream.getSnapshot().status === 'closed') return resolve()
    const stop = stream.subscribe(() => {
      if (stream.getSnapshot().status !== 'closed') return
      stop()
      resolve()
    })
  })

// A for-await reader that aborts as soon as it has one event, as a "stop" button would.
const abortAfterFirstEvent = async (stream: EventStream, controller: AbortController) => {
  const items: string[] = []
  try {
    for await (const event of stream) {
      items.push(event.data)
      controller.abort()
    }
    return { items, error: undefined }
  } catch (error) {
    return { items, error }
  }
}

describe('abort', () => {
  it('starts nothing when the signal is already aborted', async () => {
    const server = await loopback.start(() => {})
    const fetch = vi.fn(globalThis.fetch)
    const onClose = vi.fn()
    const stream = createEventStream(`${server.origin}/s`, {
      fetch,
      signal: AbortSignal.abort(),
      onClose,
    })
    const { error } = await collect(stream)
    expect(error).toMatchObject({ code: 'aborted' })
    expect(fetch).not.toHaveBeenCalled()
    expect(onClose).toHaveBeenCalledWith({ reason: 'aborted', error })
  })

  it('runs no callback before createEventStream returns', () => {
    const onClose = vi.fn()
    createEventStream('http://127.0.0.1:1/', { signal: AbortSignal.abort(), onClose })
    expect(onClose).not.toHaveBeenCalled()
  })

  it('cancels a request waiting for response headers', async () => {
    let gone: Promise<unknown> | undefined
    const server = await loopback.start((_, res) => {
      gone = disconnected(res)
    })
    const controller = new AbortController()
    const stream = createEventStream(`${server.origin}/s`, { signal: controller.signal })
    const pending = collect(stream)
    await server.waitForRequests(1)
    controller.abort()
    const { error } = await pending
    expect(error).toMatchObject({ code: 'aborted' })
    await gone
    expect(server.requests).toHaveLength(1)
  })

  it('cancels the body reader mid-stream', async () => {
    let gone: Promise<unknown> | undefined
    const server = await loopback.start((_, res) => {
      gone = disconnected(res)
      openStream(res)
      res.write(formatEvent({ id: '1', data: 'a' }))
    })
    const controller = new AbortController()
    const stream = createEventStream(`${server.origin}/s`, { signal: controller.signal })
    const { items, error } = await abortAfterFirstEvent(stream, controller)
    expect(items).toEqual(['a'])
    expect(error).toMatchObject({ code: 'aborted' })
    await gone
  })

  it('yields nothing after an abort, not even events parsed from the same chunk', async () => {
    const server = await loopback.start((_, res) => {
      openStream(res)
      res.write(['a', 'b', 'c'].map((data) => formatEvent({ data })).join(''))
    })
    const controller = new AbortController()
    const stream = createEventStream(`${server.origin}/s`, { signal: controller.signal })
    const { items, error } = await abortAfterFirstEvent(stream, controller)
    expect(items).toEqual(['a'])
    expect(error).toMatchObject({ code: 'aborted' })
  })

  it('cancels a pending backoff without another request', async () => {
    const server = await loopback.start((_, res) => res.writeHead(503).end())
    const controller = new AbortController()
    const stream = createEventStream(`${server.origin}/s`, {
      signal: controller.signal,
      random: () => 1,
      backoff: { initialMs: 60_000 },
      onReconnect: () => controller.abort(),
    })
    await collect(stream)
    expect(server.requests).toHaveLength(1)
    expect(stream.getSnapshot()).toMatchObject({ status: 'closed', closeReason: 'aborted' })
  })

  it('stops while onAuthRequired is still refreshing', async () => {
    const server = await loopback.start((_, res) => res.writeHead(401).end())
    const controller = new AbortController()
    const stream = createEventStream(`${server.origin}/s`, {
      signal: controller.signal,
      onAuthRequired: () => {
        controller.abort()
        return new Promise((resolve) => setTimeout(resolve, 50))
      },
    })
    await collect(stream)
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(server.requests).toHaveLength(1)
  })

  it('stops while the headers function is pending', async () => {
    const server = await loopback.start(() => {})
    const controller = new AbortController()
    const stream = createEventStream(`${server.origin}/s`, {
      signal: controller.signal,
      headers: () => {
        controller.abort()
        return {}
      },
    })
    const { error } = await collect(stream)
    expect(error).toMatchObject({ code: 'aborted' })
    expect(server.requests).toHaveLength(0)
  })
})

describe('close()', () => {
  it('is idempotent: onClose runs once', async () => {
    const server = await loopback.start((_, res) => openStream(res))
    const onClose = vi.fn<(info: CloseInfo) => void>()
    const stream = createEventStream(`${server.origin}/s`, {
      onOpen: () => stream.close(),
      onClose,
    })
    await closed(stream)
    stream.close()
    stream.close()
    expect(onClose.mock.calls).toEqual([[{ reason: 'aborted', error: undefined }]])
  })

  it('ends a for await quietly and releases the connection', async () => {
    let gone: Promise<unknown> | undefined
    const server = await loopback.start((_, res) => {
      gone = disconnected(res)
      openStream(res)
      res.write(formatEvent({ id: '1', data: 'a' }))
    })
    const stream = createEventStream(`${server.origin}/s`)
    const items: string[] = []
    for await (const event of stream) {
      items.push(event.data)
      stream.close()
    }
    expect(items).toEqual(['a'])
    await gone
  })

  it('stops delivering the rest of a chunk', async () => {
    const server = await loopback.start((_, res) => {
      openStream(res)
      res.write(
        formatEvent({ data: 'a' }) + formatEvent({ data: 'b' }) + formatEvent({ data: 'c' }),
      )
    })
    const seen: string[] = []
    const stream = createEventStream(`${server.origin}/s`, {
      onEvent: (event) => {
        seen.push(event.data)
        if (event.data === 'b') stream.close()
      },
    })
    await closed(stream)
    expect(seen).toEqual(['a', 'b'])
  })

  it('runs when a for await breaks, releasing the connection', async () => {
    let gone: Promise<unknown> | undefined
    const server = await loopback.start((_, res) => {
      gone = disconnected(res)
      openStream(res)
      res.write(formatEvent({ data: 'a' }))
    })
    const stream = createEventStream(`${server.origin}/s`)
    for await (const _ of stream) break
    expect(stream.getSnapshot()).toMatchObject({ status: 'closed', closeReason: 'aborted' })
    await gone
  })
})

describe('callbacks that throw', () => {
  it('stop the stream with invalid-argument instead of retrying', async () => {
    const server = await loopback.start((_, res) => {
      openStream(res)
      res.write(formatEvent({ data: 'a' }))
    })
    const bug = new Error('bug in onEvent')
    const onError = vi.fn()
    const stream = createEventStream(`${server.origin}/s`, {
      onEvent: () => {
        throw bug
      },
      onError,
    })
    const { error } = await collect(stream)
    expect(error).toMatchObject({ code: 'invalid-argument', cause: bug })
    expect(onError).toHaveBeenCalledWith(error)
    expect(server.requests).toHaveLength(1)
  })

  it('in onClose are contained', async () => {
    const stream = createEventStream('http://127.0.0.1:1/', {
      signal: AbortSignal.abort(),
      onClose: () => {
        throw new Error('bug in onClose')
      },
    })
    await closed(stream)
    expect(stream.getSnapshot().closeReason).toBe('aborted')
  })
})

describe('creation', () => {
  it('throws invalid-argument for a relative URL outside a browser', () => {
    expect(() => createEventStream('/s')).toThrow(
      expect.objectContaining({ code: 'invalid-argument' }),
    )
  })

  it('throws invalid-argument for a lastEventId no header can carry', () => {
    expect(() => createEventStream('http://127.0.0.1:1/', { lastEventId: 'a\nb' })).toThrow(
      expect.objectContaining({ code: 'invalid-argument' }),
    )
  })
})
