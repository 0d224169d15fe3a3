// What every HTTP upstream shares: the request, the mapping of HTTP failures onto `upstream-*`
// codes, and reading the body as SSE events or NDJSON lines per network chunk.
import { createEventStreamParser, type ServerSentEvent } from '@unbroken/client/parser'
import { ProxyError } from '../errors'
import type { UpstreamChunk, UpstreamEvent } from './upstream'

// Why the proxy stopped reading a body: it had what it needed.
const READ_DONE = new Error('The proxy finished reading this response.')

/** The first bytes of an error body worth showing; the rest is usually an HTML page or a trace. */
const SNIPPET_CHARS = 300

/** POSTs JSON and resolves to a response that is streaming `contentType`, or throws why not. */
export async function postStream(
  url: string,
  headers: Record<string, string>,
  body: unknown,
  contentType: RegExp,
  signal: AbortSignal,
): Promise<Response> {
  let response: Response
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
      signal,
    })
  } catch (error) {
    signal.throwIfAborted()
    throw new ProxyError(
      'upstream-unavailable',
      `Could not reach the upstream at ${new URL(url).origin}: ${describe(error)}.`,
      { cause: error },
    )
  }
  if (!response.ok) throw await statusError(response)
  const type = response.headers.get('content-type') ?? ''
  if (!contentType.test(type) || response.body === null) {
    const snippet = (await readText(response)).slice(0, SNIPPET_CHARS)
    throw new ProxyError(
      'upstream-error',
      `The upstream answered ${type || 'no content type'} instead of a stream: ${upstreamMessage(snippet)}`,
      { retryable: false },
    )
  }
  return response
}

/** Maps an HTTP error answer to the code a client can act on, keeping the upstream's message. */
async function statusError(response: Response): Promise<ProxyError> {
  const { status } = response
  const detail = upstreamMessage((await readText(response)).slice(0, 4096))
  const message = `The upstream answered ${status}: ${detail}`
  if (status === 401 || status === 403) {
    return new ProxyError('upstream-auth', message, { upstreamStatus: status })
  }
  const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'))
  if (status === 429) {
    const wait = retryAfterMs === undefined ? '' : ` Retry in ${Math.ceil(retryAfterMs / 1000)} s.`
    return new ProxyError('upstream-rate-limited', `${message}${wait}`, {
      retryAfterMs,
      upstreamStatus: status,
    })
  }
  if (status === 408 || status >= 500) {
    return new ProxyError('upstream-unavailable', message, { retryAfterMs, upstreamStatus: status })
  }
  return new ProxyError('upstream-rejected', message, { upstreamStatus: status })
}

/** The human part of an error body: OpenAI, Anthropic and Ollama all nest it a little differently. */
export function upstreamMessage(text: string): string {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    return text.trim().slice(0, SNIPPET_CHARS) || '(empty body)'
  }
  const candidates = [
    (json as { error?: { message?: unknown } })?.error?.message,
    (json as { error?: unknown })?.error,
    (json as { message?: unknown })?.message,
  ]
  const found = candidates.find((value) => typeof value === 'string')
  return (typeof found === 'string' ? found : text).slice(0, SNIPPET_CHARS)
}

/** `Retry-After` as ms: delay-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | null): number | undefined {
  if (value === null) return undefined
  if (/^\s*\d+\s*$/.test(value)) return Number(value) * 1000
  const at = Date.parse(value)
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now())
}

async function readText(response: Response): Promise<string> {
  try {
    return await response.text()
  } catch {
    return ''
  }
}

function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } })?.cause
  if (typeof cause?.code === 'string') return cause.code
  return error instanceof Error ? error.message : String(error)
}

/**
 * The body's chunks as they arrive. A read that fails (a reset, a socket closed mid-body) is a
 * truncation; an abort of ours is rethrown as it is.
 */
async function* readChunks(response: Response, signal: AbortSignal): AsyncGenerator<Uint8Array> {
  const reader = (response.body as ReadableStream<Uint8Array>).getReader()
  try {
    for (;;) {
      let result: ReadableStreamReadResult<Uint8Array>
      try {
        result = await reader.read()
      } catch (error) {
        signal.throwIfAborted()
        throw new ProxyError(
          'upstream-truncated',
          `The upstream connection broke off mid-stream: ${describe(error)}.`,
          { cause: error },
        )
      }
      if (result.done) return
      yield result.value
    }
  } finally {
    // Stops the download when the consumer leaves early (an error frame, an end marker). With a
    // reason: without one undici builds an AbortError DOMException per stream (1.5% of the CPU of
    // a burst of short streams, measured).
    reader.cancel(READ_DONE).catch(() => {})
  }
}

/** The body as SSE, one array of events per network chunk (comments such as `: ping` dropped). */
export async function* readEvents(
  response: Response,
  signal: AbortSignal,
): AsyncGenerator<ServerSentEvent[]> {
  let batch: ServerSentEvent[] = []
  const parser = createEventStreamParser({ onEvent: (event) => batch.push(event) })
  for await (const chunk of readChunks(response, signal)) {
    parser.write(chunk)
    if (batch.length === 0) continue
    yield batch
    batch = []
  }
}

/** The body as NDJSON lines, one array per network chunk. A final line without `\n` is dropped. */
export async function* readLines(
  response: Response,
  signal: AbortSignal,
): AsyncGenerator<string[]> {
  const decoder = new TextDecoder()
  let pending = ''
  for await (const chunk of readChunks(response, signal)) {
    const lines = (pending + decoder.decode(chunk, { stream: true })).split('\n')
    pending = lines.pop() as string
    const complete = lines.filter((line) => line.trim() !== '')
    if (complete.length > 0) yield complete
  }
}

/**
 * Decodes the items of each network chunk into one upstream chunk. `decode` pushes the events of
 * one item and returns true at the end marker, after which nothing more is read. When it throws
 * (an error frame), the events decoded before it in the same network chunk are yielded first:
 * they reached the proxy, so they reach the log.
 */
export async function* decodeChunks<T>(
  batches: AsyncIterable<readonly T[]>,
  decode: (item: T, out: UpstreamEvent[]) => boolean,
): AsyncGenerator<UpstreamChunk> {
  for await (const batch of batches) {
    const out: UpstreamEvent[] = []
    let ended = false
    try {
      for (const item of batch) {
        if (decode(item, out)) {
          ended = true
          break
        }
      }
    } catch (error) {
      if (out.length > 0) yield out
      throw error
    }
    if (out.length > 0) yield out
    if (ended) return
  }
}
