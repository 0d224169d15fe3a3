// Request bodies, read straight from the Node request: the stream routes run on the Node path, and
// letting @hono/node-server build a Web `Request` body first (a ReadableStream and an
// AbortController per request) was 5% of the CPU of a burst of short streams, measured.
import type { IncomingMessage } from 'node:http'
import { ProxyError } from './errors'

/** Long conversations with code run to a few MB; anything larger is a mistake or an attack. */
export const MAX_BODY_BYTES = 8 * 1024 * 1024

/** The body as text; `request-too-large` past `MAX_BODY_BYTES`. */
export async function readBody(request: IncomingMessage): Promise<string> {
  const declared = Number(request.headers['content-length'] ?? 0)
  if (declared > MAX_BODY_BYTES) throw tooLarge()
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of request) {
    size += (chunk as Buffer).length
    if (size > MAX_BODY_BYTES) throw tooLarge()
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks).toString('utf8')
}

/** Text as JSON, or `invalid-request` saying why not. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch (error) {
    throw new ProxyError('invalid-request', `The body is not JSON: ${(error as Error).message}`)
  }
}

function tooLarge(): ProxyError {
  return new ProxyError('request-too-large', `The body is larger than ${MAX_BODY_BYTES} bytes.`)
}
