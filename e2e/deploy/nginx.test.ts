// docs/deployment.md's nginx configuration is one nginx accepts, as every example in the docs
// must be (its TypeScript ones are checked by e2e/docs).
import { readFileSync } from 'node:fs'
import { expect, it } from 'vitest'
import { checkHttpConfig } from './nginx'

const PAGE = `${import.meta.dirname}/../../docs/deployment.md`

it('the nginx configuration of docs/deployment.md passes nginx -t', async () => {
  const blocks = [...readFileSync(PAGE, 'utf8').matchAll(/^```nginx\n([\s\S]*?)^```$/gm)]
  expect(blocks).toHaveLength(1)
  await expect(checkHttpConfig(blocks[0]?.[1] ?? '')).resolves.toBeUndefined()
})
