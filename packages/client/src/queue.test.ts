import { describe, expect, it, vi } from 'vitest'
import { createQueue } from './queue'

describe('createQueue', () => {
  it('keeps values pushed between pulls, in order', async () => {
    const queue = createQueue<number>(() => {})
    const iterator = queue.iterator()
    queue.push(1)
    queue.push(2)
    expect(await iterator.next()).toEqual({ done: false, value: 1 })
    expect(await iterator.next()).toEqual({ done: false, value: 2 })
  })

  it('hands a value to a pull that is already waiting', async () => {
    const queue = createQueue<number>(() => {})
    const pending = queue.iterator().next()
    queue.push(3)
    expect(await pending).toEqual({ done: false, value: 3 })
  })

  it('buffers nothing before an iterator exists', async () => {
    const queue = createQueue<number>(() => {})
    queue.push(1)
    const iterator = queue.iterator()
    queue.end()
    expect(await iterator.next()).toEqual({ done: true, value: undefined })
  })

  it('throws the error after the buffered values, then ends', async () => {
    const queue = createQueue<number>(() => {})
    const iterator = queue.iterator()
    queue.push(1)
    queue.end(new Error('boom'))
    expect(await iterator.next()).toEqual({ done: false, value: 1 })
    await expect(iterator.next()).rejects.toThrow('boom')
    expect(await iterator.next()).toEqual({ done: true, value: undefined })
  })

  it('rejects a waiting pull when it ends with an error', async () => {
    const queue = createQueue<number>(() => {})
    const pending = queue.iterator().next()
    queue.end(new Error('boom'))
    await expect(pending).rejects.toThrow('boom')
  })

  it('calls onReturn when the consumer breaks', async () => {
    const onReturn = vi.fn()
    const queue = createQueue<number>(onReturn)
    const iterator = queue.iterator()
    queue.push(1)
    for await (const _ of iterator) break
    expect(onReturn).toHaveBeenCalledOnce()
  })
})
