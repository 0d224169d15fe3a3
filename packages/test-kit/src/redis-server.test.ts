/**
 * Issue 5, point 5: without a redis-server binary the Redis suites skip on a laptop, but fail in
 * CI, so that a machine missing Redis can never pass them silently.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeEach, expect, it, vi } from 'vitest'
import { hasRedisServer, startRedisServer } from './redis-server'

// An empty directory as PATH: no redis-server can be found, whatever the machine has.
const emptyPath = mkdtempSync(join(tmpdir(), 'no-redis-'))
afterAll(() => rmSync(emptyPath, { recursive: true, force: true }))

beforeEach(() => {
  vi.stubEnv('PATH', emptyPath)
  vi.stubEnv('REDIS_URL', undefined)
})
afterEach(() => {
  vi.unstubAllEnvs()
})

it('finds no redis-server on an empty PATH', () => {
  expect(hasRedisServer()).toBe(false)
})

it('throws in CI when no redis-server can be had', async () => {
  vi.stubEnv('CI', 'true')
  await expect(startRedisServer()).rejects.toThrow('redis-server is not installed')
})

it.each([undefined, 'false', '0'])(
  'resolves to undefined outside CI (CI=%s), so that the suite skips',
  async (ci) => {
    vi.stubEnv('CI', ci)
    expect(await startRedisServer()).toBeUndefined()
  },
)
