import { describe, expect, it } from 'vitest'
import { startChild } from './child'
import { waitFor } from './wait'

const script = `${import.meta.dirname}/fixtures/announcing-server.ts`

describe('startChild', () => {
  it('resolves once the child announces its port, with what else it announced', async () => {
    const child = await startChild(script, {})
    try {
      expect(child.announced.role).toBe('fixture')
      expect(await (await fetch(child.origin)).text()).toBe('alive')
    } finally {
      await child.stop()
    }
  })

  it('finds the announcement among log lines and keeps everything printed as output', async () => {
    const child = await startChild(script, { LOGS: '1' })
    try {
      expect(child.announced.msg).toBe('listening')
      await fetch(child.origin)
      await waitFor(() => child.output().includes('"msg":"request"'))
      expect(child.output()).toContain('starting\n{"level":30,"msg":"warming up"}')
      expect(child.output()).toContain('a warning on stderr')
    } finally {
      await child.stop()
    }
  })

  it('kills the child itself, so its port stops answering', async () => {
    const child = await startChild(script, {})
    await child.kill()
    await expect(fetch(child.origin)).rejects.toThrow()
  })

  it('rejects with the child stderr when it exits before listening', async () => {
    await expect(startChild(script, { FAIL: '1' })).rejects.toThrow('refusing to start')
  })
})
