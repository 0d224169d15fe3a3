import { describe, expect, it } from 'vitest'
import { createResumeGuard, type Verdict } from './resume-guard'

// A block as the parser reports it: an id-only block, or an event with its `lastEventId`.
type Block = { id: string } | { event: string }

/** Runs connections of blocks through one guard; returns each block's verdict and the position. */
const judge = (connections: Block[][], initialId = '') => {
  const guard = createResumeGuard(initialId)
  const verdicts: Verdict[][] = []
  for (const blocks of connections) {
    guard.open()
    verdicts.push(
      blocks.map((block) =>
        'id' in block
          ? guard.id(block.id)
          : guard.event({ type: 'message', data: '', lastEventId: block.event }),
      ),
    )
  }
  return { verdicts, lastEventId: guard.lastEventId }
}

const events = (...ids: string[]) => ids.map((event) => ({ event }))

describe('createResumeGuard', () => {
  it('delivers a first connection as it comes', () => {
    expect(judge([events('1', '2', '3')])).toEqual({
      verdicts: [['deliver', 'deliver', 'deliver']],
      lastEventId: '3',
    })
  })

  it("takes a first connection's cursor block (A1) as the position", () => {
    expect(judge([[{ id: '0' }]])).toEqual({ verdicts: [['deliver']], lastEventId: '0' })
  })

  it("accepts the server's confirmation of the cursor", () => {
    expect(judge([events('1'), [{ id: '1' }, ...events('2')]]).verdicts[1]).toEqual([
      'deliver',
      'deliver',
    ])
  })

  it("drops the server's repeat of the cursor's own event", () => {
    expect(judge([events('1', '2', '3'), events('3', '4')])).toEqual({
      verdicts: [
        ['deliver', 'deliver', 'deliver'],
        ['duplicate', 'deliver'],
      ],
      lastEventId: '4',
    })
  })

  it('drops the repeat of a saved cursor on the very first connection', () => {
    expect(judge([events('a', 'b')], 'a').verdicts).toEqual([['duplicate', 'deliver']])
  })

  it('sees a restart from the first event the stream delivered', () => {
    expect(judge([events('1', '2'), events('1')]).verdicts[1]).toEqual(['restart'])
  })

  it("sees a server that went back to before the cursor, at the cursor's own event", () => {
    expect(judge([events('1', '2', '3'), events('2', '3', '4')]).verdicts[1]).toEqual([
      'deliver',
      'restart',
      'deliver',
    ])
  })

  it("still drops the cursor's repeat when events without ids come first", () => {
    expect(judge([events('1'), events('', '1', '2')]).verdicts[1]).toEqual([
      'deliver',
      'duplicate',
      'deliver',
    ])
  })

  it('sees a cursor the server did not honour: another id-only block first', () => {
    expect(judge([events('1', '2'), [{ id: '0' }, ...events('1')]]).verdicts[1]).toEqual([
      'cursor-ignored',
      'restart',
    ])
  })

  it('accepts an id-only block after events without ids: a checkpoint, not a cursor', () => {
    expect(judge([events('1'), [...events('', ''), { id: '7' }]])).toEqual({
      verdicts: [['deliver'], ['deliver', 'deliver', 'deliver']],
      lastEventId: '7',
    })
  })

  it('accepts another id-only block once the connection has an id', () => {
    expect(judge([events('1'), [...events('2'), { id: 'x' }]]).verdicts[1]).toEqual([
      'deliver',
      'deliver',
    ])
  })

  it('keeps opaque, non-numeric ids apart by equality alone', () => {
    expect(judge([events('b-9'), events('b-10', 'a')]).verdicts[1]).toEqual(['deliver', 'deliver'])
  })

  it('delivers events without ids, which inherit the last one, never as a restart', () => {
    expect(judge([events('1', '1', '1')]).verdicts).toEqual([['deliver', 'deliver', 'deliver']])
  })

  it('keeps the cursor as the position for events without ids after a resume', () => {
    expect(judge([events('1'), events('', '')])).toEqual({
      verdicts: [['deliver'], ['deliver', 'deliver']],
      lastEventId: '1',
    })
  })

  it('delivers a stream with no ids at all', () => {
    expect(judge([events('', ''), events('')]).lastEventId).toBe('')
  })
})
