import {
  createFaultProxy,
  type FaultPlan,
  type FaultProxy,
  type RequestHead,
  startChild,
} from '@unbroken/test-kit'
import type { ComparableEvent } from '../../support/compare'

export type PageStats = {
  requests: Record<string, number>
  hub: { disconnects: Record<string, number>; authExpiries: number }
  /** The React page's LLM streams: requests by method, open connections, cancelled producers. */
  llm: { POST: number; GET: number; DELETE: number; open: number; cancelled: number }
}

export type PageFixture = {
  /** The page's origin: the fault proxy in front of the page server. */
  readonly origin: string
  readonly proxy: FaultProxy
  /** Another origin for the same server, behind its own fault proxy. */
  readonly crossOrigin: string
  readonly crossOriginProxy: FaultProxy
  /** Sets the plan for new connections to `/streams…`; the page and its script always load cleanly. */
  setStreamPlan(plan: FaultPlan): void
  stats(): Promise<PageStats>
  /** What the log holds for a stream: the events a reader must have got. */
  reference(streamUrl: string): Promise<ComparableEvent[]>
  close(): Promise<void>
}

/** Starts the page server in a child process behind a fault proxy (one per spec file). */
export async function startPageFixture(): Promise<PageFixture> {
  const server = await startChild(`${import.meta.dirname}/page-server.ts`, {})
  let streamPlan: FaultPlan = {}
  const plan = ({ head }: { head: RequestHead | undefined }) =>
    head?.path.startsWith('/streams') ? streamPlan : {}
  const proxy = await createFaultProxy({ targetPort: server.port, plan })
  const crossOriginProxy = await createFaultProxy({
    targetPort: Number(server.announced.crossOriginPort),
    plan,
  })
  return {
    origin: proxy.origin,
    proxy,
    crossOrigin: crossOriginProxy.origin,
    crossOriginProxy,
    setStreamPlan(plan) {
      streamPlan = plan
    },
    stats: async () => (await fetch(`${server.origin}/stats`)).json() as Promise<PageStats>,
    async reference(streamUrl) {
      const id = new URL(streamUrl, server.origin).pathname.split('/').pop()
      return (await fetch(`${server.origin}/reference/${id}`)).json() as Promise<ComparableEvent[]>
    },
    async close() {
      await Promise.all([proxy.close(), crossOriginProxy.close()])
      await server.kill()
    },
  }
}
