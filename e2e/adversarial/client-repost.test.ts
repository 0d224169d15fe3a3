// A re-sent POST against the real registry (issue 10 #3, #4, #7): the client's Idempotency-Key
// makes the repeat attach to the running generation, so re-sending a POST that got no answer (or a
// gateway's 502) by default, and opting in to re-POSTs mid-answer (`shouldRetry`, the OpenAI-style
// path), never runs the model twice nor shows text twice.
import { request } from 'node:http'
import { createEventStream, type EventStreamOptions } from '@unbroken/client'
import type { Producer } from '@unbroken/server'
import {
  createFaultProxy,
  type FaultPlan,
  type FaultProxy,
  type Listening,
  listen,
} from '@unbroken/test-kit'
import { afterEach, describe, expect, it } from 'vitest'
import { type RegistryServer, startRegistryServer } from '../faults/registry-server'
import { produce, readLog, sourceEvents } from '../faults/source'
import { assertSameEvents } from '../support/compare'
import { collect } from '../support/read'

const SOURCE = sourceEvents(300)

let server: RegistryServer | undefined
let proxy: FaultProxy | undefined
let gateway: Listening | undefined
afterEach(async () => {
  await proxy?.close()
  await gateway?.close()
  await server?.close()
  proxy = server = gateway = undefined
})

/** A registry whose POSTs each run a live generation, counted. */
const startRegistry = async () => {
  let generations = 0
  const generation: Producer = async (stream) => {
    generations++
    await produce(SOURCE, { batch: 10, pauseMs: 5 })(stream, undefined)
  }
  server = await startRegistryServer({ producer: () => generation })
  return { target: server, generations: () => generations }
}

/** A registry whose POSTs run a live generation, behind a proxy that applies `firstPost` once. */
const start = async (firstPost: FaultPlan) => {
  const { target, generations } = await startRegistry()
  proxy = await createFaultProxy({
    targetPort: target.port,
    plan: ({ index }) => (index === 0 ? firstPost : {}),
  })
  const via = proxy
  return {
    generations,
    keys: () => via.connections.map((c) => c.head?.headers['idempotency-key']),
    read: (options: EventStreamOptions) =>
      collect(
        createEventStream(`${via.origin}/streams`, {
          method: 'POST',
          backoff: { initialMs: 0 },
          ...options,
        }),
      ),
    log: async (url: string) => readLog(target.log, new URL(url).pathname.split('/').pop() ?? ''),
  }
}

// Re-send the POST after any failure, as an OpenAI-style client does with `shouldRetry`.
const resendPost: EventStreamOptions['shouldRetry'] = ({ retry, attempt }) => retry || attempt < 3

/**
 * A fetch for a browser whose CORS setup hides Content-Location: the only way back is a second
 * POST. It keeps the locations it hid, for the test to find the stream in the log.
 */
const hidingContentLocation = () => {
  const hidden: string[] = []
  const fetcher: typeof fetch = async (input, init) => {
    const response = await fetch(input, init)
    const headers = new Headers(response.headers)
    const location = headers.get('content-location')
    if (location) hidden.push(new URL(location, response.url).href)
    headers.delete('content-location')
    return new Response(response.body, { status: response.status, headers })
  }
  return { fetcher, hidden }
}

describe('a POST cut before its response', () => {
  it('fails with network, not sent again, without an Idempotency-Key', async () => {
    const run = await start({ cutAt: 0 })
    const { error } = await run.read({ idempotencyKey: false })
    expect(error).toMatchObject({ code: 'network', status: undefined })
    expect(run.keys()).toEqual([undefined])
  })

  it('is re-sent by default with the same Idempotency-Key, and attaches to the one generation', async () => {
    const run = await start({ cutAt: 0 })
    const { events, snapshot } = await run.read({})
    const [first, second] = run.keys()
    expect(first).toMatch(/^[\w-]{22}$/)
    expect(second).toBe(first)
    expect(snapshot.closeReason).toBe('done')
    expect(run.generations()).toBe(1)
    assertSameEvents(
      { scenario: 'POST re-sent after a cut before the response' },
      await run.log(snapshot.url),
      events,
    )
  })
})

describe('a POST answered 502 by a gateway after the instance took it', () => {
  it('is re-sent with the same Idempotency-Key and attaches to the generation it started', async () => {
    const { target, generations } = await startRegistry()
    // As nginx when the instance dies after taking the POST: the generation runs, the client gets
    // 502. Later requests pass through.
    const seen: Array<string | undefined> = []
    gateway = await listen((req, res) => {
      seen.push(req.headers['idempotency-key'] as string | undefined)
      const upstream = request(
        {
          port: target.port,
          host: '127.0.0.1',
          method: req.method,
          path: req.url,
          headers: req.headers,
        },
        (answer) => {
          if (seen.length === 1) {
            answer.destroy()
            return res.writeHead(502).end()
          }
          res.writeHead(answer.statusCode ?? 502, answer.headers)
          answer.pipe(res)
        },
      )
      req.pipe(upstream)
    })
    const { events, snapshot } = await collect(
      createEventStream(`${gateway.origin}/streams`, { method: 'POST', backoff: { initialMs: 0 } }),
    )
    expect(snapshot.closeReason).toBe('done')
    expect(seen[0]).toMatch(/^[\w-]{22}$/)
    expect(seen[1]).toBe(seen[0])
    expect(generations()).toBe(1)
    const id = new URL(snapshot.url).pathname.split('/').pop() ?? ''
    assertSameEvents(
      { scenario: 'POST re-sent after a 502' },
      await readLog(target.log, id),
      events,
    )
  })
})

describe('a POST stream re-sent mid-answer (no Content-Location seen)', () => {
  it('attaches after its Last-Event-ID: one generation, no text twice', async () => {
    const run = await start({ cutAt: 4_000 })
    const { fetcher, hidden } = hidingContentLocation()
    const { events, snapshot } = await run.read({ fetch: fetcher, shouldRetry: resendPost })
    expect(snapshot).toMatchObject({ closeReason: 'done', reconnects: 1 })
    expect(run.generations()).toBe(1)
    expect(new Set(hidden).size).toBe(1)
    assertSameEvents(
      { scenario: 'POST re-sent mid-answer' },
      await run.log(hidden[0] ?? ''),
      events,
    )
  })

  it('without a key starts a second generation, which the client stops instead of repeating', async () => {
    const run = await start({ cutAt: 4_000 })
    const { events, error } = await run.read({
      fetch: hidingContentLocation().fetcher,
      // Re-send after the drop (its error keeps the cut as `cause`), not after the restart.
      shouldRetry: ({ retry, attempt, error }) => retry || (attempt < 3 && !!error.cause),
      idempotencyKey: false,
    })
    expect(error).toMatchObject({ code: 'resume-failed' })
    expect(run.generations()).toBe(2)
    const data = events.map((event) => event.data)
    expect(new Set(data).size).toBe(data.length)
  })
})
