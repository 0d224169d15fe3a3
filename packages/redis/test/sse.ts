/**
 * A minimal SSE reader for the multi-instance tests (fetch + split on blank lines), so this
 * package's tests depend on no client library. Handles `id`, `event` and single-line `data`.
 */

export interface SseEvent {
  readonly id: string | undefined
  readonly event: string | undefined
  readonly data: string
}

/** Yields each event of an SSE response body until it ends or is aborted. */
export async function* readSse(response: Response): AsyncGenerator<SseEvent> {
  if (!response.body) return
  const decoder = new TextDecoder()
  let buffer = ''
  const reader = response.body.getReader()
  while (true) {
    const { done, value } = await reader.read()
    if (done) return
    buffer += decoder.decode(value, { stream: true })
    let end = buffer.indexOf('\n\n')
    while (end !== -1) {
      const block = buffer.slice(0, end)
      buffer = buffer.slice(end + 2)
      end = buffer.indexOf('\n\n')
      const fields: Record<string, string> = {}
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) continue
        const colon = line.indexOf(':')
        if (colon === -1) continue
        fields[line.slice(0, colon)] = line.slice(colon + 1).replace(/^ /, '')
      }
      if (fields.data !== undefined) {
        yield { id: fields.id, event: fields.event, data: fields.data }
      }
    }
  }
}
