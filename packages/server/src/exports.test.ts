import { expect, it } from 'vitest'

it('exports exactly the public API', async () => {
  expect(Object.keys(await import('./index')).sort()).toMatchInlineSnapshot(`
    [
      "UnbrokenServerError",
      "assertEventInput",
      "createErrorPayload",
      "createEventHub",
      "createMemoryEventLog",
      "createResumableStreams",
      "createStreamId",
      "formatErrorData",
      "formatEvent",
      "getSharedResumableStreams",
    ]
  `)
})

it('exports one factory from each framework entry', async () => {
  const entries = {
    express: await import('./frameworks/express'),
    fastify: await import('./frameworks/fastify'),
    hono: await import('./frameworks/hono'),
    next: await import('./frameworks/next'),
  }
  const names = Object.fromEntries(
    Object.entries(entries).map(([entry, module]) => [entry, Object.keys(module)]),
  )
  expect(names).toEqual({
    express: ['createStreamsMiddleware'],
    fastify: ['createStreamsPlugin'],
    hono: ['createStreamsHandler'],
    next: ['createStreamsRouteHandlers'],
  })
})
