// The streamed answer of a compatible endpoint to a client that cannot resume: an official SDK,
// curl, an agent. Its one connection is the whole answer, so however that connection ends it must
// say how the answer ended, in the API's own format; a clean end after partial output is a
// silently short answer. The registry's connections end in protocol v1's ways, which are right
// for a reader that resumes and wrong for an SDK: a drain closes them for a reconnect, a cancel
// logs `done {"reason":"cancelled"}`, a stop logs `producer-lost`. So the stream is started in the
// registry without a connection, and the SDK's connection is served here:
// - a drain does not hand it off: it ends with its stream, which finishes within the grace or is
//   stopped at its end;
// - a terminal event the registry logged (a cancel, a stop) goes out as the format's error;
// - a log that ends without a terminal event, or fails, ends it with the format's error too;
// - a token expiring mid-answer does not cut it: it was checked when the request began, and an
//   SDK cannot refresh and resume (`--max-duration` still bounds the answer).
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response'
import type {
  EventHub,
  EventLog,
  EventWriter,
  EventWriterOptions,
  LoggedEvent,
  Producer,
  ResumableStreams,
} from '@unbroken/server'
import type { ProxyContext } from '../app'
import type { Logger } from '../logger'
import type { StreamFailure, StreamFormat } from './format'

/** What serving an SDK's stream needs, beside the registry that runs it. */
export interface SdkStreamDeps {
  readonly streams: ResumableStreams
  readonly log: EventLog
  readonly hub: EventHub
  readonly logger: Logger
  /** A Web `Response` body instead of the Node path (the demo's network controls). */
  readonly webResponses: boolean
}

/** The SDK answers this process serves. */
export interface SdkStreams {
  /**
   * Starts `producer` in the registry and answers the request with its stream in `format`;
   * throws the registry's refusals (429 past --max-streams, 503 while draining).
   */
  serve(c: ProxyContext, job: SdkStreamJob): Promise<Response>
  /** Resolves once every answer served now has ended, or after `withinMs`. */
  settled(withinMs: number): Promise<void>
}

/** One SDK answer to serve. */
export interface SdkStreamJob {
  readonly producer: Producer
  readonly subject: string | undefined
  readonly format: StreamFormat
  /** CORS headers of the answer (none unless `--cors-origin`). */
  readonly headers: Readonly<Record<string, string>>
}

/**
 * Whether the request comes from a reader that resumes. One that asks for `text/event-stream`
 * speaks SSE, whose connections end without a terminal event when the reader should reconnect
 * (`@unbroken/client`, fetch-event-source); the SDKs ask for `application/json`, curl for anything.
 */
export const readsResumably = (c: ProxyContext): boolean =>
  /\btext\/event-stream\b/i.test(c.req.header('accept') ?? '')

const CANCELLED: StreamFailure = {
  code: 'cancelled',
  message: 'The stream was cancelled (DELETE); the answer is incomplete.',
  retryable: false,
}

const LOST: StreamFailure = {
  code: 'producer-lost',
  message: 'The stream stopped before it finished; the answer is incomplete.',
  retryable: true,
}

export function createSdkStreams(deps: SdkStreamDeps): SdkStreams {
  const relays = new Set<Promise<void>>()

  const open = (c: ProxyContext, options: EventWriterOptions) =>
    deps.webResponses
      ? deps.hub.web(c.req.raw, options)
      : {
          writer: deps.hub.node(c.env.incoming, c.env.outgoing, options),
          response: RESPONSE_ALREADY_SENT,
        }

  return {
    async serve(c, job) {
      const started = await deps.streams.start(job.producer, { principal: job.subject })
      let opened: { writer: EventWriter; response: Response }
      try {
        opened = open(c, {
          headers: { ...job.headers, 'Content-Location': started.url },
          cursor: deps.log.startId,
        })
      } catch (error) {
        await deps.streams.cancel(started.id)
        throw error
      }
      const { writer, response } = opened
      if (writer.signal.reason === 'client-closed') {
        // Gone before the answer began: nobody can learn where the stream is, so it stops now.
        await deps.streams.cancel(started.id)
        return response
      }
      const events = deps.log.read(started.id, { signal: writer.signal })
      const relayed = relay(events, writer, job.format)
        .then(() => {
          // An SDK cannot resume: cut for not reading, it lost the rest of its answer, which still
          // goes on into the log (its Content-Location serves it).
          if (writer.signal.reason === 'slow-client') {
            deps.logger.warn({ streamId: started.id }, 'answer cut: the client stopped reading')
          }
        })
        .catch((error: unknown) =>
          deps.logger.error({ err: error, streamId: started.id }, 'stream failed'),
        )
        .finally(() => relays.delete(relayed))
      relays.add(relayed)
      return response
    },
    async settled(withinMs) {
      let timer: ReturnType<typeof setTimeout> | undefined
      const waited = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, withinMs)
      })
      await Promise.race([Promise.all(relays), waited])
      clearTimeout(timer)
    },
  }
}

/** Copies the stream's events to the SDK's connection, ending it in the format on every path. */
async function relay(
  events: AsyncIterable<LoggedEvent>,
  writer: EventWriter,
  format: StreamFormat,
): Promise<void> {
  try {
    for await (const { id, event, data } of events) {
      const terminal = event === 'done' || event === 'error'
      const ending = terminal ? registryEnding(event, data) : undefined
      const out = ending ? { ...format.fail(ending), id } : { id, event, data }
      if ((await writer.send(out)) === 'closed') return
      if (terminal) return writer.close('ended')
    }
    // The log completed the stream without a terminal event (aged out, or its producer died).
    if (!writer.closed) await end(writer, format.fail(LOST))
  } catch (error) {
    // The log failed mid-stream (Redis down): the answer stops here, incomplete.
    if (!writer.closed) await end(writer, format.fail(LOST))
    throw error
  }
}

async function end(writer: EventWriter, event: { event?: string; data: string }) {
  await writer.send(event)
  writer.close('ended')
}

/**
 * The failure behind a terminal event the registry logged itself, in protocol v1 (a cancel's
 * `done {"reason":"cancelled"}`, a stop's `error {"code":"producer-lost",…}`); `undefined` for
 * the format's own end and error (its error bodies have no top-level `code`).
 */
function registryEnding(event: string, data: string): StreamFailure | undefined {
  const payload = parseObject(data)
  if (payload === undefined) return undefined
  if (event === 'done') {
    // The format's own end is `[DONE]` (not JSON) or a typed event (Anthropic's `ping`).
    if (payload.type !== undefined) return undefined
    return payload.reason === 'cancelled' ? CANCELLED : LOST
  }
  if (typeof payload.code !== 'string') return undefined
  // Final in the log; for an SDK, a new request may succeed unless the proxy itself failed.
  const retryable = payload.code !== 'internal-error'
  return { code: payload.code, message: String(payload.message ?? LOST.message), retryable }
}

function parseObject(data: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(data)
    return typeof value === 'object' && value !== null
      ? (value as Record<string, unknown>)
      : undefined
  } catch {
    return undefined
  }
}
