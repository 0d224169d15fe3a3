// What every HTTP upstream shares: the request, the mapping of HTTP failures onto `upstream-*`
// codes, and reading the body as SSE events or NDJSON lines per network chunk.
//
// Requests go out on `node:http(s)`, not `fetch`: undici's fetch builds a Request, Headers, a Web
// body stream for the request and another for the response, and a resource-timing entry per call.
// Measured on loopback: about 1 ms of CPU per request against about 0.2 ms for `node:http`, which
// was most of what a stream's setup cost the proxy (and so of the time to first token when 100
// streams start together), plus a Web-stream read per network chunk.
// The modules, not their `request` bindings: a request interceptor (msw, in tests) replaces
// `http.request` on the module object after this file has loaded.
import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http'
import https from 'node:https'
import { createEventStreamParser, type ServerSentEvent } from '@unbroken/client/parser'
import { ProxyError } from '../errors'
import type { UpstreamChunk, UpstreamEvent } from './upstream'

/** The first bytes of an error body worth showing; the rest is usually an HTML page or a trace. */
const SNIPPET_CHARS = 300
/** How much of an error body is read at most: enough for any provider's JSON error. */
const ERROR_BODY_BYTES = 16 * 1024

/** POSTs JSON and resolves to a response that is streaming `contentType`, or throws why not. */
export async function postStream(
  url: string,
  headers: Record<string, string>,
  body: unknown,
  contentType: RegExp,
  signal: AbortSignal,
): Promise<IncomingMessage> {
  let response: IncomingMessage
  try {
    response = await post(new URL(url), headers, JSON.stringify(body), signal)
  } catch (error) {
    signal.throwIfAborted()
    throw new ProxyError(
      'upstream-unavailable',
      `Could not reach the upstream at ${new URL(url).origin}: ${describe(error)}.`,
      { cause: error },
    )
  }
  const status = response.statusCode ?? 0
  if (status < 200 || status > 299) throw await statusError(status, response)
  const type = response.headers['content-type'] ?? ''
  if (!contentType.test(type)) {
    const snippet = (await readText(response)).slice(0, SNIPPET_CHARS)
    throw new ProxyError(
      'upstream-error',
      `The upstream answered ${type || 'no content type'} instead of a stream: ${upstreamMessage(snippet)}`,
      { retryable: false },
    )
  }
  return response
}

/**
 * Failures of a request sent on a kept-alive connection that the upstream closed while it sat idle
 * in the pool: the close crossed the request on the wire, so the upstream never read it.
 */
const STALE_CONNECTION = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED'])

/**
 * One POST; resolves with the response head. `signal` destroys the request, body included.
 * A request that fails on a reused connection before any answer is sent again, as browsers do and
 * Node's documentation of `request.reusedSocket` advises: an upstream closes idle connections
 * after its keep-alive timeout, and when that close crosses a new request (likelier the busier
 * this process is, since it notices the close later) the request fails with ECONNRESET though the
 * upstream never saw it. Each such failure discards that connection, so the retries end: a
 * failure on a new connection is final.
 */
function post(
  url: URL,
  headers: Record<string, string>,
  payload: string,
  signal: AbortSignal,
): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const send = url.protocol === 'https:' ? https.request : http.request
    let answered = false
    const request = send(
      url,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(payload)),
          ...headers,
        },
        signal,
      },
      (response) => {
        answered = true
        resolve(response)
      },
    )
    // Also after the answer: a late socket error must not go unheard (the body read reports it).
    request.on('error', (error: NodeJS.ErrnoException) => {
      const stale = !answered && request.reusedSocket && STALE_CONNECTION.has(error.code ?? '')
      if (stale && !signal.aborted) resolve(post(url, headers, payload, signal))
      else reject(error)
    })
    request.end(payload)
  })
}

/** Maps an HTTP error answer to the code a client can act on, keeping the upstream's message. */
async function statusError(status: number, response: IncomingMessage): Promise<ProxyError> {
  const detail = upstreamMessage((await readText(response)).slice(0, 4096))
  const message = `The upstream answered ${status}: ${detail}`
  if (status === 401 || status === 403) {
    return new ProxyError('upstream-auth', message, { upstreamStatus: status })
  }
  const retryAfterMs = parseRetryAfter(header(response.headers, 'retry-after'))
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
export function parseRetryAfter(value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  if (/^\s*\d+\s*$/.test(value)) return Number(value) * 1000
  const at = Date.parse(value)
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now())
}

/** The start of a body as text (at most `ERROR_BODY_BYTES`); a body that fails to arrive is ''. */
async function readText(response: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  try {
    for await (const chunk of response) {
      chunks.push(chunk as Buffer)
      size += (chunk as Buffer).length
      if (size >= ERROR_BODY_BYTES) break
    }
  } catch {
    return ''
  }
  return Buffer.concat(chunks).subarray(0, ERROR_BODY_BYTES).toString('utf8')
}

const header = (headers: IncomingHttpHeaders, name: string): string | undefined => {
  const value = headers[name]
  return Array.isArray(value) ? value[0] : value
}

function describe(error: unknown): string {
  const code = (error as { code?: unknown })?.code
  if (typeof code === 'string') return code
  return error instanceof Error ? error.message : String(error)
}

/** Splits one network chunk into the complete items it finishes, keeping any partial one. */
type Splitter<T> = (chunk: Buffer, items: T[]) => void

/** Decodes one item into `out`; true at the end marker, after which nothing more is read. */
export type ItemDecoder<T> = (item: T, out: UpstreamEvent[]) => boolean

/** How many bytes may wait unread before the body is paused (TCP then slows the upstream). */
const QUEUED_BYTES = 64 * 1024

/**
 * The body as SSE, decoded into one upstream chunk per network chunk (comments such as `: ping`
 * dropped). `open` makes the request; it runs on the first read.
 */
export function decodeEvents(
  open: () => Promise<IncomingMessage>,
  signal: AbortSignal,
  decode: ItemDecoder<ServerSentEvent>,
): AsyncGenerator<UpstreamChunk> {
  let items: ServerSentEvent[] = []
  const parser = createEventStreamParser({ onEvent: (event) => items.push(event) })
  const split: Splitter<ServerSentEvent> = (chunk, into) => {
    items = into
    parser.write(chunk)
  }
  return decodeBody(open, signal, split, decode)
}

/** The body as NDJSON lines, decoded like `decodeEvents`. A final line without `\n` is dropped. */
export function decodeLines(
  open: () => Promise<IncomingMessage>,
  signal: AbortSignal,
  decode: ItemDecoder<string>,
): AsyncGenerator<UpstreamChunk> {
  const decoder = new TextDecoder()
  let pending = ''
  const split: Splitter<string> = (chunk, into) => {
    const lines = (pending + decoder.decode(chunk, { stream: true })).split('\n')
    pending = lines.pop() as string
    for (const line of lines) if (line.trim() !== '') into.push(line)
  }
  return decodeBody(open, signal, split, decode)
}

/**
 * Reads the body and decodes the items of each network chunk into one upstream chunk, in one
 * loop: a generator per step (body iterator, chunks, items, decoding) cost a promise hop each per
 * token, which was a third of the proxy's own CPU per token (`--cpu-prof`, bench/). The body is
 * read in flowing mode, the cheapest: its `data` event hands the chunk over in the socket's own
 * callback. When `decode` throws (an error frame), the events decoded before it in the same
 * network chunk are yielded first: they reached the proxy, so they reach the log. A read that
 * fails (a reset, a socket closed mid-body) is a truncation, after the chunks read before it; an
 * abort of ours is rethrown as it is.
 */
async function* decodeBody<T>(
  open: () => Promise<IncomingMessage>,
  signal: AbortSignal,
  split: Splitter<T>,
  decode: ItemDecoder<T>,
): AsyncGenerator<UpstreamChunk> {
  const response = await open()
  const chunks: Buffer[] = []
  let queued = 0
  let ended = false
  let failure: { error: unknown } | undefined
  let wake: (() => void) | undefined
  const wakeUp = () => {
    const waiting = wake
    wake = undefined
    waiting?.()
  }
  const onData = (chunk: Buffer) => {
    chunks.push(chunk)
    queued += chunk.length
    if (queued >= QUEUED_BYTES) response.pause()
    wakeUp()
  }
  const onEnd = () => {
    ended = true
    wakeUp()
  }
  const onError = (error: unknown) => {
    failure ??= { error }
    wakeUp()
  }
  // A close before the end (the socket went away mid-body) may come without an error event.
  const onClose = () => {
    if (!ended) onError(Object.assign(new Error('Premature close'), { code: 'ECONNRESET' }))
  }
  response.on('data', onData)
  response.on('end', onEnd)
  response.on('error', onError)
  response.on('close', onClose)
  try {
    while (true) {
      // A stop of ours ends the read at once, leaving what is queued unread.
      if (failure) signal.throwIfAborted()
      const chunk = chunks.shift()
      if (chunk === undefined) {
        if (failure) {
          throw new ProxyError(
            'upstream-truncated',
            `The upstream connection broke off mid-stream: ${describe(failure.error)}.`,
            { cause: failure.error },
          )
        }
        if (ended) return
        if (response.isPaused()) response.resume()
        await new Promise<void>((resolve) => {
          wake = resolve
        })
        continue
      }
      queued -= chunk.length
      const items: T[] = []
      const out: UpstreamEvent[] = []
      let done = false
      try {
        split(chunk, items)
        for (const item of items) {
          if (decode(item, out)) {
            done = true
            break
          }
        }
      } catch (error) {
        if (out.length > 0) yield out
        throw error
      }
      if (out.length > 0) yield out
      if (done) return
    }
  } finally {
    response.off('data', onData)
    response.off('end', onEnd)
    response.off('close', onClose)
    response.off('error', onError)
    // The consumer left early (an error frame, an end marker) or the body ended. A body received
    // whole hands its connection back for the next stream; any other stops the download.
    if (response.complete) response.resume()
    else response.destroy()
  }
}
