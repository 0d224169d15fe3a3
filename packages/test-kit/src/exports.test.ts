import { expect, it } from 'vitest'
import * as kit from './index'

it('exports exactly the documented helpers', () => {
  expect(Object.keys(kit).sort()).toMatchInlineSnapshot(`
    [
      "baseSeed",
      "chromiumLaunchOptions",
      "createFaultProxy",
      "createRandom",
      "describeSeed",
      "dyingWithParent",
      "freePort",
      "hasRedisServer",
      "listen",
      "parseSse",
      "randomInt",
      "readSse",
      "startChild",
      "startRedisServer",
      "waitFor",
    ]
  `)
})
