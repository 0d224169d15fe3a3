import { getEventListeners } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { ProxyError } from './errors'
import { generate } from './generation'
import type { Upstream, UpstreamChunk } from './upstreams/upstream'

const request = { model: 'm', messages: [{ role: 'user' as const, content: 'hi' }] }
const limits = { idleTimeoutMs: 10_000, maxDurationMs: 60_000 }

/**
 * An upstream that plays `script`: chunks, pauses (ms) or silence, and stops the moment it is
 * aborted, as a real upstream request does.
 */
function scripted(
  script: Array<UpstreamChunk | number | 'silence'>,
): Upstream & { aborted: () => boolean } {
  let aborted = false
  return {
    kind: 'openai',
    defaultModel: 'm',
    aborted: () => aborted,
    async *stream(_, { signal }) {
      signal.addEventListener('abort', () => (aborted = true))
      for (const step of script) {
        if (step === 'silence') await sleep(2 ** 31 - 1, undefined, { signal })
        else if (typeof step === 'number') await sleep(step, undefined, { signal })
        else yield step
      }
    },
  }
}

async function collect(upstream: Upstream, signal = new AbortController().signal, own = limits) {
  const chunks: UpstreamChunk[] = []
  try {
    for await (const chunk of generate(upstream, request, { signal }, own)) chunks.push(chunk)
    return { chunks, error: undefined }
  } catch (error) {
    return { chunks, error }
  }
}

describe('generate', () => {
  it('ends at the finish event and reads nothing after it', async () => {
    const upstream = scripted([
      [{ type: 'text', text: 'a' }],
      [{ type: 'finish', reason: 'stop' }],
      [{ type: 'text', text: 'after' }],
    ])
    const { chunks, error } = await collect(upstream)
    expect(error).toBeUndefined()
    expect(chunks).toEqual([[{ type: 'text', text: 'a' }], [{ type: 'finish', reason: 'stop' }]])
  })

  it('turns an end without the end marker into a retryable upstream-truncated, never a finish', async () => {
    const { chunks, error } = await collect(scripted([[{ type: 'text', text: 'a' }]]))
    expect(chunks).toHaveLength(1)
    expect(error).toBeInstanceOf(ProxyError)
    expect(error).toMatchObject({ code: 'upstream-truncated', retryable: true })
  })

  it('times out a silent upstream and aborts its request', async () => {
    const upstream = scripted([[{ type: 'text', text: 'a' }], 'silence'])
    const { error } = await collect(upstream, undefined, {
      idleTimeoutMs: 50,
      maxDurationMs: 60_000,
    })
    expect(error).toMatchObject({ code: 'upstream-timeout', retryable: true })
    expect(upstream.aborted()).toBe(true)
  })

  it('resets the idle timer on every chunk', async () => {
    const upstream = scripted([
      30,
      [{ type: 'text', text: 'a' }],
      30,
      [{ type: 'text', text: 'b' }],
      30,
      [{ type: 'finish', reason: 'stop' }],
    ])
    const { error } = await collect(upstream, undefined, {
      idleTimeoutMs: 80,
      maxDurationMs: 60_000,
    })
    expect(error).toBeUndefined()
  })

  it('stops a generation at max-duration, even one that keeps talking', async () => {
    const talking = Array.from(
      { length: 100 },
      () => [10, [{ type: 'text' as const, text: 'x' }]] as const,
    ).flat()
    const upstream = scripted(talking)
    const { error } = await collect(upstream, undefined, {
      idleTimeoutMs: 10_000,
      maxDurationMs: 60,
    })
    expect(error).toMatchObject({ code: 'max-duration', retryable: false })
    expect(upstream.aborted()).toBe(true)
  })

  it("rethrows the caller's abort reason as it is, and aborts the upstream", async () => {
    const upstream = scripted(['silence'])
    const stop = new AbortController()
    const running = collect(upstream, stop.signal)
    stop.abort('cancelled')
    expect((await running).error).toBe('cancelled')
    expect(upstream.aborted()).toBe(true)
  })

  it('calls the upstream with an aborted signal when the caller had already aborted', async () => {
    let given: AbortSignal | undefined
    const upstream: Upstream = {
      kind: 'openai',
      defaultModel: 'm',
      async *stream(_, call) {
        given = call.signal
        yield [{ type: 'text', text: 'a' }]
      },
    }
    const stop = new AbortController()
    stop.abort('cancelled')
    expect((await collect(upstream, stop.signal)).error).toBe('cancelled')
    expect(given?.aborted).toBe(true)
  })

  it("leaves no listener on the caller's signal once it ended", async () => {
    const caller = new AbortController()
    await collect(scripted([[{ type: 'finish', reason: 'stop' }]]), caller.signal)
    await collect(scripted([[{ type: 'text', text: 'a' }]]), caller.signal)
    expect(getEventListeners(caller.signal, 'abort')).toEqual([])
  })
})
