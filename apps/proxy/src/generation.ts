// One upstream call, run to a classified end. Whatever the upstream kind, it ends in exactly one
// way: its `finish` event (the end marker), or a thrown error. An upstream that stops without the
// marker is truncated; one silent too long timed out; one running too long hit max-duration.
import { ProxyError } from './errors'
import type { GenerationRequest } from './request'
import type { Faults } from './upstreams/faults'
import type { Upstream, UpstreamChunk } from './upstreams/upstream'

/** Bounds on one generation. */
export interface GenerationLimits {
  /** Longest silence from the upstream, prefill included. */
  readonly idleTimeoutMs: number
  /** Longest the whole generation may run. */
  readonly maxDurationMs: number
}

/** Inputs of one call. */
export interface GenerationCall {
  /** The caller's stop: a cancel or shutdown. Its reason is rethrown as it is. */
  readonly signal: AbortSignal
  readonly faults?: Faults | undefined
  /** Called once the upstream accepted the request, before any output (see `UpstreamCall`). */
  readonly onOpen?: (() => void) | undefined
}

/**
 * Yields the upstream's chunks up to and including the one with `finish`, then stops reading.
 * Throws a `ProxyError` for truncation and timeouts, the upstream's own `ProxyError`s as they are,
 * and the caller's abort reason once `call.signal` aborts.
 */
export async function* generate(
  upstream: Upstream,
  request: GenerationRequest,
  call: GenerationCall,
  limits: GenerationLimits,
): AsyncGenerator<UpstreamChunk> {
  // One controller for every stop, the caller's forwarded into it, not `AbortSignal.any`: a
  // composite costs more to make than a listener, and on Node 20 one with a listener left on it
  // (`http.request` adds one) is never collected (nodejs/node#54614, #55328; measured on 20.20:
  // 200,000 kept 240 MB after GC).
  const limit = new AbortController()
  const forward = () => limit.abort(call.signal.reason)
  if (call.signal.aborted) forward()
  else call.signal.addEventListener('abort', forward, { once: true })
  const { signal } = limit
  const idle = setTimeout(
    () =>
      limit.abort(
        new ProxyError(
          'upstream-timeout',
          `The upstream sent nothing for ${limits.idleTimeoutMs} ms; the answer is incomplete.`,
        ),
      ),
    limits.idleTimeoutMs,
  )
  const deadline = setTimeout(
    () =>
      limit.abort(
        new ProxyError(
          'max-duration',
          `The generation ran longer than ${limits.maxDurationMs} ms and was stopped.`,
        ),
      ),
    limits.maxDurationMs,
  )
  let chunks = 0
  try {
    for await (const chunk of upstream.stream(request, {
      signal,
      faults: call.faults,
      onOpen: call.onOpen,
    })) {
      idle.refresh()
      chunks += 1
      yield chunk
      if (chunk.some((event) => event.type === 'finish')) return
    }
    throw new ProxyError(
      'upstream-truncated',
      `The upstream stream ended without its end marker after ${chunks} chunks; the answer is incomplete.`,
    )
  } catch (error) {
    // An abort surfaces from fetch or a timer as a generic AbortError; say which stop it was.
    call.signal.throwIfAborted()
    limit.signal.throwIfAborted()
    throw error
  } finally {
    call.signal.removeEventListener('abort', forward)
    clearTimeout(idle)
    clearTimeout(deadline)
  }
}
