// Issue 10 #7 / agreement A4: clients that re-POST after a drop (fetch-event-source always does;
// our client does for a stream without Content-Location when `shouldRetry` allows it) get the text
// once when the POST carries an Idempotency-Key. Without a key, each re-POST starts a second
// generation: those tests pin down the failure the key prevents.
import { fetchEventSource } from '@microsoft/fetch-event-source'
import { createEventStream } from '@unbroken/client'
import { createResumableStreams, type ResumableStreams } from '@unbroken/server'
import { createFaultProxy, type FaultProxy, listen } from '@unbroken/test-kit'
import { afterEach, describe, expect, it } from 'vitest'

// fetch-event-source is written for browsers: it schedules retries with `window.setTimeout` and
// always unsubscribes from `document`'s visibilitychange. Node has neither.
Object.assign(globalThis, { window: globalThis, document: new EventTarget() })

const TOKENS = Array.from({ length: 60 }, (_, i) => `t${i} `)
const TEXT = TOKENS.join('')
const KEY = 'Vq3k8Jm2XbT6nR0wLp9sYe'

const closers: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close()
})

/** A registry whose producer streams TOKENS, behind a proxy that cuts the first connection at `cutAt`. */
async function serve(cutAt = 500): Promise<{ proxy: FaultProxy; runs: () => number }> {
  let runs = 0
  const streams: ResumableStreams = createResumableStreams({ retryMs: 20 })
  const server = await listen((req, res) => {
    void streams.handle(req, res, async (stream) => {
      runs += 1
      for (const token of TOKENS) await stream.send({ event: 'delta', data: token })
    })
  })
  const proxy = await createFaultProxy({
    targetPort: server.port,
    plan: ({ index }) => (index === 0 ? { cutAt } : {}),
  })
  closers.push(() => streams.close(), server.close, proxy.close)
  return { proxy, runs: () => runs }
}

/**
 * Reads with fetch-event-source, which re-POSTs the same request (and Last-Event-ID) on a drop.
 * `received` is the body its first connection delivered before the cut; `empty` counts the
 * messages with neither type nor data that it dispatched.
 */
async function readWithFetchEventSource(url: string, headers: Record<string, string>) {
  let text = ''
  let empty = 0
  let received: string | undefined
  const recording: typeof fetch = async (input, init) => {
    const response = await fetch(input, init)
    if (received !== undefined || !response.body) return response
    received = ''
    const decoder = new TextDecoder()
    const tap = new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        received += decoder.decode(chunk, { stream: true })
        controller.enqueue(chunk)
      },
    })
    return new Response(response.body.pipeThrough(tap), response)
  }
  const controller = new AbortController()
  await fetchEventSource(url, {
    method: 'POST',
    headers,
    body: '{"prompt":"hello"}',
    signal: controller.signal,
    openWhenHidden: true,
    fetch: recording,
    onmessage({ event, data }) {
      if (!event && !data) empty++
      if (event === 'delta') text += data
      if (event === 'done') controller.abort()
    },
    // Its documented pattern: a connection that ends before `done` is retried, not final.
    onclose() {
      throw new Error('closed before done')
    },
    onerror() {
      return 10
    },
  })
  return { text, received: received ?? '', empty }
}

/** Reads with our client as an OpenAI-style endpoint: no Content-Location, re-POST allowed. */
async function readWithShouldRetry(url: string, headers: Record<string, string>) {
  const withoutLocation: typeof fetch = async (input, init) => {
    const response = await fetch(input, init)
    const stripped = new Headers(response.headers)
    stripped.delete('content-location')
    return new Response(response.body, { status: response.status, headers: stripped })
  }
  let text = ''
  const stream = createEventStream(url, {
    method: 'POST',
    headers,
    body: '{"prompt":"hello"}',
    fetch: withoutLocation,
    // The key is the one in `headers`, or none: the client's default key is switched off here.
    idempotencyKey: false,
    // One re-POST; a second generation then shows as a restart (resume-failed), not as text.
    shouldRetry: ({ error, attempt }) => error.code === 'resume-failed' && attempt < 2,
  })
  try {
    for await (const event of stream) if (event.type === 'delta') text += event.data
  } catch {
    // Without a key the second generation ends the read with resume-failed: the text is the point.
  }
  return text
}

/**
 * The event fetch-event-source cannot help losing when the cut fell between an event's `id:` line
 * and its blank line: it took the id as it read the line (WHATWG commits it at the blank line), so
 * it resumes after an event it never dispatched. The server writes `id:` last, so that this one
 * byte is the whole window; anywhere else the cut loses nothing.
 */
function lostAtCut(received: string): string | undefined {
  const unfinished = received.slice(received.lastIndexOf('\n\n') + 2)
  if (!/(^|\n)id: [^\n]*\n$/.test(unfinished)) return undefined
  return /^data: (.*)$/m.exec(unfinished)?.[1]
}

describe('@microsoft/fetch-event-source after a drop', () => {
  // Consecutive cut offsets, more than one event block apart, so that one of them lands in the
  // window above (an event block is about 30 bytes with its chunk framing).
  const CUTS = Array.from({ length: 40 }, (_, i) => 500 + i)

  it('delivers the text whole and from one generation with an Idempotency-Key, save the one event of a cut between its id: line and its blank line', async () => {
    const reads = await Promise.all(
      CUTS.map(async (cutAt) => {
        const { proxy, runs } = await serve(cutAt)
        const { text, received } = await readWithFetchEventSource(`${proxy.origin}/streams`, {
          'idempotency-key': KEY,
        })
        expect(proxy.connections[0]?.cut, `cut at ${cutAt}`).toBe(true)
        expect(proxy.connections[1]?.head?.method).toBe('POST')
        expect(runs(), `generations, cut at ${cutAt}`).toBe(1)
        const lost = lostAtCut(received)
        expect(text, `cut at ${cutAt}, after ${JSON.stringify(received.slice(-40))}`).toBe(
          lost === undefined ? TEXT : TEXT.replace(lost, ''),
        )
        return lost
      }),
    )
    // The sweep did reach the window, so the exception above was exercised, not assumed.
    expect(reads.filter((lost) => lost !== undefined).length).toBeGreaterThan(0)
  })

  it("dispatches each connection's cursor block as an empty message (protocol §11)", async () => {
    const { proxy } = await serve()
    const { empty } = await readWithFetchEventSource(`${proxy.origin}/streams`, {
      'idempotency-key': KEY,
    })
    expect(proxy.connections).toHaveLength(2)
    expect(empty).toBe(2)
  })

  it('starts a second generation without one (the failure the key prevents)', async () => {
    const { proxy, runs } = await serve()
    const { text } = await readWithFetchEventSource(`${proxy.origin}/streams`, {})
    expect(runs()).toBe(2)
    expect(text).not.toBe(TEXT)
  })
})

describe("@unbroken/client's shouldRetry re-POST after a drop", () => {
  it('delivers the text once, from one generation, when the POST carries an Idempotency-Key', async () => {
    const { proxy, runs } = await serve()
    const text = await readWithShouldRetry(`${proxy.origin}/streams`, { 'idempotency-key': KEY })
    expect(proxy.connections[0]?.cut).toBe(true)
    expect(proxy.connections[1]?.head?.method).toBe('POST')
    expect(runs()).toBe(1)
    expect(text).toBe(TEXT)
  })

  it('starts a second generation without one (the failure the key prevents)', async () => {
    const { proxy, runs } = await serve()
    const text = await readWithShouldRetry(`${proxy.origin}/streams`, {})
    expect(runs()).toBe(2)
    expect(text).not.toBe(TEXT)
  })
})
