import { parseSse } from '@unbroken/test-kit'
import { describe, expect, it } from 'vitest'
import { createEventHub } from './hub'
import { aborted } from './test-helpers'

const decoder = new TextDecoder()

async function readAll(response: Response): Promise<string> {
  return await response.text()
}

describe('web writer', () => {
  it('answers with the protocol headers, without Connection', () => {
    const { response } = createEventHub().web(new Request('http://localhost/s'), {
      headers: { 'Content-Location': '/streams/s1' },
    })
    expect(Object.fromEntries(response.headers)).toEqual({
      'cache-control': 'no-cache, no-transform',
      'content-location': '/streams/s1',
      'content-type': 'text/event-stream; charset=utf-8',
      'x-accel-buffering': 'no',
    })
    expect(response.status).toBe(200)
  })

  it('streams the opening, events and done through the body', async () => {
    const { response, writer } = createEventHub().web(new Request('http://localhost/s'))
    void writer.send({ id: 1, data: 'a\nb' })
    void writer.end()
    expect(await readAll(response)).toMatchInlineSnapshot(`
      ": ok
      retry: 1000
      data: a
      data: b
      id: 1

      event: done
      data: {}

      "
    `)
  })

  it('reads Last-Event-ID from the request', () => {
    const request = new Request('http://localhost/s', { headers: { 'Last-Event-ID': 'e-7' } })
    expect(createEventHub().web(request).writer.lastEventId).toBe('e-7')
  })

  it('coalesces same-tick sends into one body chunk', async () => {
    const { response, writer } = createEventHub().web(new Request('http://localhost/s'))
    const reader = (response.body as ReadableStream<Uint8Array>).getReader()
    await reader.read()
    for (let i = 0; i < 20; i++) void writer.send({ data: String(i) })
    const chunk = await reader.read()
    expect(parseSse(decoder.decode(chunk.value))).toHaveLength(20)
  })

  it('makes sends wait while nobody pulls, then resolves them when the body is read', async () => {
    const { response, writer } = createEventHub().web(new Request('http://localhost/s'))
    // At the 64 KiB batch cap the chunk goes out at once, past the body's 16 KiB queue.
    await writer.send({ data: 'x'.repeat(64 * 1024) })
    let settled = false
    const waiting = writer.send({ data: 'next' }).then((outcome) => {
      settled = true
      return outcome
    })
    await Promise.resolve()
    expect(settled).toBe(false)
    const reader = (response.body as ReadableStream<Uint8Array>).getReader()
    while (!settled) await reader.read()
    expect(await waiting).toBe('written')
  })

  it('closes a body nobody reads as slow-client at the drain timeout', async () => {
    const { writer } = createEventHub({ drainTimeoutMs: 50 }).web(new Request('http://localhost/s'))
    await writer.send({ data: 'x'.repeat(64 * 1024) })
    expect(await writer.send({ data: 'stuck' })).toBe('closed')
    expect(writer.signal.reason).toBe('slow-client')
  })

  it('treats a cancelled body as client-closed', async () => {
    const { response, writer } = createEventHub().web(new Request('http://localhost/s'))
    await response.body?.cancel()
    expect(await aborted(writer.signal)).toBe('client-closed')
    expect(await writer.send({ data: 'late' })).toBe('closed')
  })

  it('treats an aborted request signal as client-closed', async () => {
    const controller = new AbortController()
    const { writer } = createEventHub().web(
      new Request('http://localhost/s', { signal: controller.signal }),
    )
    controller.abort()
    expect(await aborted(writer.signal)).toBe('client-closed')
  })

  it('closes at once for a request that was aborted before the handler ran', () => {
    const request = new Request('http://localhost/s', { signal: AbortSignal.abort() })
    expect(createEventHub().web(request).writer.closed).toBe(true)
  })

  it('refuses an injected id and keeps the body clean', async () => {
    const { response, writer } = createEventHub().web(new Request('http://localhost/s'))
    expect(() => writer.send({ id: '1\r\nevent: admin', data: 'x' })).toThrowError(
      expect.objectContaining({ code: 'invalid-argument' }),
    )
    void writer.end()
    expect(await readAll(response)).not.toContain('admin')
  })
})
