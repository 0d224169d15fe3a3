/**
 * Issue 9 #1: hostile requests against a server wired exactly as the README shows (the promise of
 * `handle` neither awaited nor caught). A request target that is not a URL gets 400, anything
 * unexpected a clean 500 reported to `onError`; no promise rejects, so the process stays up and
 * the next stream runs whole.
 */
import { request } from 'node:http'
import { readSse } from '@unbroken/test-kit'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type WiredServer, wiredServers } from './server-wiring'

const servers = wiredServers()

const rejections: unknown[] = []
const onRejection = (reason: unknown) => rejections.push(reason)
beforeEach(() => {
  rejections.length = 0
  process.on('unhandledRejection', onRejection)
})
afterEach(() => {
  process.off('unhandledRejection', onRejection)
})

/**
 * Sends `method target` with the target as it is (fetch would normalise it) and resolves with the
 * status and body; status 0 if the server neither answers nor closes within 10 s.
 */
function rawRequest(
  origin: string,
  method: string,
  target: string,
): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(origin)
  return new Promise((resolve) => {
    const req = request({ host: hostname, port, method, path: target }, async (response) => {
      let body = ''
      for await (const chunk of response.setEncoding('utf8')) body += chunk
      resolve({ status: response.statusCode ?? 0, body })
    })
    req.setTimeout(10_000, () => req.destroy())
    req.on('error', () => resolve({ status: 0, body: '' }))
    req.end()
  })
}

/** A whole stream through `server`: the process is up and the registry still works. */
async function streamsWhole(server: WiredServer) {
  const response = await fetch(server.url('/streams'), { method: 'POST' })
  expect((await readSse(response).rest()).map((e) => e.data)).toEqual(['hello', '{}'])
}

describe('request targets that are not URLs', () => {
  it.each([
    ['a bracket that opens no IPv6 address', 'GET', '//[/'],
    ['a port out of range', 'GET', 'http://a:99999/streams/x'],
    ['a POST to a port out of range', 'POST', 'http://a:99999/streams'],
  ])('answers %s with 400 invalid-argument, and keeps serving', async (_, method, target) => {
    const server = await servers.start('memory', async (stream) => {
      await stream.send({ event: 'delta', data: 'hello' })
    })
    const answer = await rawRequest(server.origin, method, target)
    expect(answer.status).toBe(400)
    expect(JSON.parse(answer.body)).toMatchObject({ code: 'invalid-argument', retryable: false })
    await streamsWhole(server)
    expect(rejections).toEqual([])
  })
})

describe('a hook that throws', () => {
  it('answers a clean 500, tells onError, and keeps serving', async () => {
    const reported: unknown[] = []
    const server = await servers.start(
      'memory',
      async (stream) => {
        await stream.send({ event: 'delta', data: 'hello' })
      },
      {
        principal: (request) => {
          if (request.header('x-break') !== undefined) throw new TypeError('hook bug')
          return undefined
        },
        onError: (error) => reported.push(error),
      },
    )
    const response = await fetch(server.url('/streams'), {
      method: 'POST',
      headers: { 'x-break': '1' },
    })
    expect(response.status).toBe(500)
    expect(await response.json()).toEqual({
      code: 'internal-error',
      message: expect.not.stringContaining('hook bug'),
      retryable: false,
    })
    expect(reported).toEqual([expect.objectContaining({ message: 'hook bug' })])
    await streamsWhole(server)
    expect(rejections).toEqual([])
  })
})
