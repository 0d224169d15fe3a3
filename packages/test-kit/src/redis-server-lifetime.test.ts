import { spawnSync } from 'node:child_process'
import { connect } from 'node:net'
import { expect, it } from 'vitest'
import { startChild } from './child'
import { hasRedisServer } from './redis-server'
import { waitFor } from './wait'

// The kernel's parent-death signal comes from util-linux's setpriv; REDIS_URL servers are not ours.
const tiedToParent =
  !process.env.REDIS_URL &&
  hasRedisServer() &&
  spawnSync('setpriv', ['--version'], { stdio: 'ignore' }).status === 0

/** Whether anything accepts a TCP connection on `port` of 127.0.0.1. */
const accepts = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.destroy()
      resolve(true)
    })
    socket.on('error', () => resolve(false))
  })

it.skipIf(!tiedToParent)('dies with the process that started it, stop() or not', async () => {
  const owner = await startChild(`${import.meta.dirname}/fixtures/redis-owner.ts`, {})
  expect(await accepts(owner.port)).toBe(true)
  await owner.kill()
  await waitFor(async () => !(await accepts(owner.port)), {
    what: 'the orphaned redis-server to exit',
  })
})
