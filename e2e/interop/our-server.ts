import { createEventHub, type EventHubOptions } from '@unbroken/server'
import { type Listening, listen } from '@unbroken/test-kit'
import { CANONICAL_EVENTS } from '../support/events'

export type OurServer = Listening & {
  readonly url: string
  /** The `Last-Event-ID` of every request, in order (`undefined` for a fresh one). */
  readonly lastEventIds: (string | undefined)[]
}

/**
 * Serves {@link CANONICAL_EVENTS} through our hub's Node writer. With `?drop=N` a fresh connection
 * closes right after event id N, without a terminal event; a request with `Last-Event-ID` gets
 * the events after it, as a resumable server would replay them.
 */
export async function startOurServer(options: EventHubOptions = {}): Promise<OurServer> {
  const hub = createEventHub({ keepAliveMs: 0, ...options })
  const lastEventIds: (string | undefined)[] = []
  const server = await listen(async (req, res) => {
    const writer = hub.node(req, res)
    lastEventIds.push(writer.lastEventId)
    const after = Number(writer.lastEventId ?? 0)
    const drop = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('drop') ?? Number.NaN)
    for (const { type, id, data } of CANONICAL_EVENTS) {
      if (Number(id) <= after) continue
      await writer.send({ id, event: type === 'message' ? undefined : type, data })
      if (after === 0 && Number(id) === drop) break
    }
    writer.close()
  })
  return {
    ...server,
    url: `${server.origin}/sse`,
    lastEventIds,
    async close() {
      await hub.closeAll({ deadlineMs: 0 })
      await server.close()
    },
  }
}
