import { UnbrokenClientError } from './errors'
import type { EventStreamOptions } from './types'

/**
 * Sends the `DELETE` that stops a stream's producer (protocol v1 §7), with the stream's
 * credentials: `headers` is asked afresh, as for a reconnect. It rejects with an
 * `UnbrokenClientError` only: `network`, or `http-status` with the answer's status.
 */
export async function cancelStream(url: string, options: EventStreamOptions): Promise<void> {
  const { headers } = options
  let response: Response
  try {
    response = await (options.fetch ?? fetch)(url, {
      method: 'DELETE',
      headers:
        typeof headers === 'function'
          ? await headers({ url, method: 'DELETE', attempt: 0, lastEventId: '' })
          : headers,
      credentials: options.credentials,
    })
  } catch (cause) {
    throw new UnbrokenClientError('network', `DELETE ${url} failed`, { cause })
  }
  const { ok, status } = response
  if (!ok) throw new UnbrokenClientError('http-status', `DELETE ${url}: HTTP ${status}`, { status })
}
