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
    ]
  `)
})
