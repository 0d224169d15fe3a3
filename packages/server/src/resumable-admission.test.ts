import { readSse, waitFor } from '@unbroken/test-kit'
import { describe, expect, it } from 'vitest'
import type { StreamRequest } from './resumable-http'
import type { ResumableStreamsOptions } from './resumable-types'
import { cleanUpAfterEach, drivenProducer, setup } from './test-resumable'

cleanUpAfterEach()

const byHeader: ResumableStreamsOptions = {
  principal: (request: StreamRequest) => request.header('x-user'),
}
const as = (user?: string): RequestInit => ({
  method: 'POST',
  headers: user === undefined ? {} : { 'x-user': user },
})

describe('maxStreamsPerPrincipal', () => {
  it('refuses one principal past its quota with 429, while others still start', async () => {
    const driven = drivenProducer()
    const { url } = await setup(driven.producer, { ...byHeader, maxStreamsPerPrincipal: 2 })
    const alice = [
      await fetch(url('/streams'), as('alice')),
      await fetch(url('/streams'), as('alice')),
    ]
    expect(alice.map((r) => r.status)).toEqual([200, 200])
    const third = await fetch(url('/streams'), as('alice'))
    expect(third.status).toBe(429)
    expect(await third.json()).toMatchObject({ code: 'stream-limit', retryable: true })
    const bob = await fetch(url('/streams'), as('bob'))
    expect(bob.status).toBe(200)
    for (const response of [...alice, bob]) await response.body?.cancel()
  })

  it('gives the place back when one of the principal’s streams ends', async () => {
    const { url } = await setup(
      async (stream) => {
        await stream.send({ data: 'only' })
      },
      { ...byHeader, maxStreamsPerPrincipal: 1 },
    )
    const first = await fetch(url('/streams'), as('alice'))
    await readSse(first).rest()
    const again = await waitFor(async () => {
      const response = await fetch(url('/streams'), as('alice'))
      if (response.status === 200) return response
      await response.body?.cancel()
      return undefined
    })
    expect((await readSse(again).rest()).map((e) => e.data)).toEqual(['only', '{}'])
  })

  it('counts anonymous streams only against maxConcurrentStreams', async () => {
    const driven = drivenProducer()
    const { url } = await setup(driven.producer, { maxStreamsPerPrincipal: 1 })
    const responses = [await fetch(url('/streams'), as()), await fetch(url('/streams'), as())]
    expect(responses.map((r) => r.status)).toEqual([200, 200])
    for (const response of responses) await response.body?.cancel()
  })

  it('refuses a quota that is not a positive number at creation', async () => {
    await expect(setup(undefined, { maxStreamsPerPrincipal: 0 })).rejects.toMatchObject({
      code: 'invalid-argument',
    })
  })
})
