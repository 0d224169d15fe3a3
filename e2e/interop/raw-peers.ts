import type { ServerResponse } from 'node:http'
import type { ComparableEvent } from '../support/compare'
import { CANONICAL_EVENTS } from '../support/events'
import { type Peer, startPeer } from './peers'

const LINE_ENDINGS = ['\r\n', '\n', '\r'] as const

/**
 * Hand-written wire text in every form the spec allows and frameworks never produce: a BOM, no
 * space after the colon, CRLF, LF and lone-CR line endings, comments between fields.
 */
function rawBlock({ type, id, data }: ComparableEvent, index: number): string {
  const eol = LINE_ENDINGS[index % LINE_ENDINGS.length] as string
  // Without a space after the colon, a value that starts with a space needs one added, since
  // a reader strips exactly one.
  const field = (name: string, value: string) =>
    `${name}:${value.startsWith(' ') ? ' ' : ''}${value}${eol}`
  let block = `: block ${index}${eol}`
  if (type !== 'message') block += field('event', type)
  for (const line of data.split('\n')) block += field('data', line)
  block += field('id', id)
  return `${block}${eol}`
}

/** Writes `bytes` a few at a time, so chunks split UTF-8 sequences and CRLF pairs. */
async function writeInPieces(res: ServerResponse, bytes: Buffer, size: number) {
  for (let start = 0; start < bytes.length && !res.destroyed; start += size) {
    const piece = bytes.subarray(start, start + size)
    await new Promise<void>((resolve) => res.write(piece, () => resolve()))
  }
}

/**
 * A bare `node:http` SSE server. With `?drop=N` the first connection ends after event id N
 * without a terminal event; it honours `Last-Event-ID` on the reconnect, as a resumable server must.
 */
export function startRawNodeHttp(): Promise<Peer> {
  return startPeer(
    async (req, res) => {
      const url = new URL(req.url ?? '/', 'http://x')
      const after = Number(req.headers['last-event-id'] ?? 0)
      const drop = Number(url.searchParams.get('drop') ?? Number.POSITIVE_INFINITY)
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
      let wire = after === 0 ? '\uFEFF:hello\n\nretry:0\n\n' : ''
      for (const [index, event] of CANONICAL_EVENTS.entries()) {
        const id = Number(event.id)
        if (id <= after) continue
        if (after === 0 && id > drop) break
        wire += rawBlock(event, index)
      }
      await writeInPieces(res, Buffer.from(wire), 5)
      res.end()
    },
    '/sse',
    CANONICAL_EVENTS,
  )
}

const chunk = (delta: Record<string, string>, finish: string | null) =>
  JSON.stringify({
    id: 'chatcmpl-e2e',
    object: 'chat.completion.chunk',
    created: 1_700_000_000,
    model: 'gpt-sim',
    choices: [{ index: 0, delta, finish_reason: finish }],
  })

const OPENAI_DATA = [
  chunk({ role: 'assistant', content: '' }, null),
  chunk({ content: 'Bonjour, ' }, null),
  chunk({ content: 'ça va ? 😀 ' }, null),
  chunk({ content: '日本語\n改行' }, null),
  chunk({}, 'stop'),
  '[DONE]',
]

/** The OpenAI Chat Completions stream shape: `data:` lines only, no ids, `data: [DONE]` last. */
export function startOpenAiStyle(): Promise<Peer> {
  return startPeer(
    (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' })
      for (const data of OPENAI_DATA) res.write(`data: ${data}\n\n`)
      res.end()
    },
    '/v1/chat/completions',
    OPENAI_DATA.map((data) => ({ type: 'message', id: '', data })),
  )
}
