import { describe, expect, it, vi } from 'vitest'
import { createStore } from './store'
import type { EventStreamSnapshot } from './types'

const initial: EventStreamSnapshot = {
  status: 'connecting',
  lastEventId: '',
  url: 'http://127.0.0.1/',
  attempt: 0,
  error: undefined,
  closeReason: undefined,
  events: 0,
  bytes: 0,
  reconnects: 0,
  timeToFirstByteMs: undefined,
}

describe('createStore', () => {
  it('returns the same snapshot until something changes', () => {
    const store = createStore(initial)
    expect(store.get()).toBe(store.get())
  })

  it('replaces the snapshot with a new frozen object on change', () => {
    const store = createStore(initial)
    const before = store.get()
    store.set({ status: 'open' })
    expect(store.get()).not.toBe(before)
    expect(store.get().status).toBe('open')
    expect(before.status).toBe('connecting')
    expect(Object.isFrozen(store.get())).toBe(true)
  })

  it('notifies subscribers until they unsubscribe', () => {
    const store = createStore(initial)
    const listener = vi.fn()
    const unsubscribe = store.subscribe(listener)
    store.set({ events: 1 })
    unsubscribe()
    store.set({ events: 2 })
    expect(listener).toHaveBeenCalledOnce()
  })

  it('keeps notifying when one listener throws', () => {
    const store = createStore(initial)
    const after = vi.fn()
    store.subscribe(() => {
      throw new Error('bug in a binding')
    })
    store.subscribe(after)
    store.set({ events: 1 })
    expect(after).toHaveBeenCalledOnce()
  })
})
