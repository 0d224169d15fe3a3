import type { OutgoingHttpHeaders, ServerResponse } from 'node:http'

/**
 * Answers with `Connection: close`, so that no request reuses a pooled connection: the fault proxy
 * picks its plan per TCP connection, and a run's (or a page's) faults must apply to its own
 * requests. Our writer sets `Connection: keep-alive` itself, hence the wrap of `writeHead`.
 */
export function closeAfterResponse(res: ServerResponse): void {
  const writeHead = res.writeHead.bind(res) as (
    status: number,
    headers?: OutgoingHttpHeaders,
  ) => ServerResponse
  res.writeHead = ((status: number, headers?: OutgoingHttpHeaders) =>
    writeHead(status, { ...headers, connection: 'close' })) as ServerResponse['writeHead']
}
