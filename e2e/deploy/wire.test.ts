import { describe, expect, it } from 'vitest'
import { deliveredEvents, type WireConnection } from './wire'

const event = (id: string) => ({ type: 'delta', id, data: id })
const log = ['0-2', '0-3', '0-4', '0-5', '0-6', '0-7'].map(event)

const connection = (lastEventId: string | undefined, ids: string[]): WireConnection => ({
  method: lastEventId === undefined ? 'POST' : 'GET',
  url: '/v1/streams/s',
  lastEventId,
  status: 200,
  respondedMs: 0,
  upstream: undefined,
  streamId: 's',
  events: ids.map((id) => ({ ...event(id), arrivedMs: 0, logged: true })),
  end: 'open',
})

describe('deliveredEvents', () => {
  it('continues a resume after the cursor the page held', () => {
    const wire = [connection(undefined, ['0-2', '0-3', '0-4']), connection('0-3', ['0-4', '0-5'])]
    expect(deliveredEvents(wire, 's', log)).toEqual(log.slice(0, 4))
  })

  it("fills from the log a reloaded page's last events that the capture missed", () => {
    const wire = [connection(undefined, ['0-2', '0-3', '0-4', '0-5']), connection('0-6', ['0-7'])]
    expect(deliveredEvents(wire, 's', log)).toEqual(log)
  })

  it('holds nothing before a cursor it cannot explain, so the comparison fails', () => {
    const wire = [connection(undefined, ['0-2', '0-4']), connection('0-6', ['0-7'])]
    expect(deliveredEvents(wire, 's', log)).toEqual([event('0-7')])
  })
})
