import { setTimeout as sleep } from 'node:timers/promises'

/**
 * Polls `probe` until it returns a truthy value and resolves to it. Used only where no event
 * exists to wait on (counters kept by the fault proxy, state inside another library); bounded so
 * that a broken condition fails with `what` instead of hanging the run.
 */
export async function waitFor<T>(
  probe: () => T | undefined | false | null | Promise<T | undefined | false | null>,
  { timeoutMs = 10_000, what = probe.toString() } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value) return value
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(5)
  }
}
