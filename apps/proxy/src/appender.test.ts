import { describe, expect, it } from 'vitest'
import { createAppender } from './appender'
import { mergeOutput, type OutputEvent } from './formats/format'

/** A write that stays in flight until the test releases it. */
function gatedWrites() {
  const batches: OutputEvent[][] = []
  const releases: Array<(error?: Error) => void> = []
  const write = (batch: OutputEvent[]) => {
    batches.push(batch)
    return new Promise<void>((resolve, reject) => {
      releases.push((error) => (error ? reject(error) : resolve()))
    })
  }
  return { batches, write, release: (error?: Error) => releases.shift()?.(error) }
}

const text = (value: string): OutputEvent => ({ type: 'text', text: value })

describe('createAppender', () => {
  it('writes the first chunk at once, with no timer', () => {
    const gate = gatedWrites()
    const appender = createAppender({ merge: mergeOutput, write: gate.write, onFailure() {} })
    appender.push([text('a'), text('b')])
    expect(gate.batches).toEqual([[text('ab')]])
  })

  it('merges what arrives while a write is in flight into the next write', async () => {
    const gate = gatedWrites()
    const appender = createAppender({ merge: mergeOutput, write: gate.write, onFailure() {} })
    appender.push([text('a')])
    appender.push([text('b')])
    appender.push([{ type: 'reasoning', text: 'r' }, text('c')])
    appender.push([text('d')])
    expect(gate.batches).toHaveLength(1)
    gate.release()
    await Promise.resolve()
    await Promise.resolve()
    expect(gate.batches).toEqual([
      [text('a')],
      [text('b'), { type: 'reasoning', text: 'r' }, text('cd')],
    ])
    gate.release()
    await appender.flush()
    expect(appender.writes).toBe(2)
  })

  it('keeps tool calls and the finish as their own events, in order', () => {
    const gate = gatedWrites()
    const appender = createAppender({ merge: mergeOutput, write: gate.write, onFailure() {} })
    const call: OutputEvent = { type: 'tool-call', id: 'c', name: 'n', arguments: '{}' }
    appender.push([text('a'), call, text('b'), { type: 'finish', reason: 'stop' }])
    expect(gate.batches[0]).toEqual([
      text('a'),
      call,
      text('b'),
      { type: 'finish', reason: 'stop' },
    ])
  })

  it('reports the first write failure once, and drops what comes after', async () => {
    const gate = gatedWrites()
    const failures: unknown[] = []
    const appender = createAppender({
      merge: mergeOutput,
      write: gate.write,
      onFailure: (error) => failures.push(error),
    })
    appender.push([text('a')])
    appender.push([text('b')])
    const broken = new Error('log down')
    gate.release(broken)
    await expect(appender.flush()).rejects.toBe(broken)
    appender.push([text('c')])
    expect(failures).toEqual([broken])
    expect(gate.batches).toEqual([[text('a')]])
  })
})
