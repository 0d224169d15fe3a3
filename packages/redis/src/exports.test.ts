import { expect, it } from 'vitest'

it('exports exactly the documented surface', async () => {
  expect(Object.keys(await import('./index')).sort()).toMatchInlineSnapshot(`
    [
      "REDIS_LOG_DEFAULTS",
      "createRedisEventLog",
    ]
  `)
})
