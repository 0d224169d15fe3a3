import { expect, it } from 'vitest'

it('exports exactly the public API', async () => {
  expect(Object.keys(await import('./index')).sort()).toMatchInlineSnapshot(`
    [
      "UnbrokenClientError",
      "createEventStream",
      "createEventStreamParser",
      "createIdempotencyKey",
    ]
  `)
})

it('exports exactly the parser-only API from @unbroken/client/parser', async () => {
  expect(Object.keys(await import('./parser-entry')).sort()).toMatchInlineSnapshot(`
    [
      "UnbrokenClientError",
      "createEventStreamParser",
      "createEventStreamParserStream",
    ]
  `)
})

it('exports exactly the session store API from @unbroken/client/store', async () => {
  expect(Object.keys(await import('./store-entry')).sort()).toMatchInlineSnapshot(`
    [
      "createLLMState",
      "createStreamSession",
      "deriveLLMView",
      "reduceLLMEvent",
      "requestKeyOf",
    ]
  `)
})
