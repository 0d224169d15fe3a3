import { describe, expect, it, vi } from 'vitest'
import { createStore } from './store'

describe('createStore', () => {
  it('starts connecting to the url, from the given last event id, with zero counters', () => {
    const { status, lastEventId, url, events } = createStore('http://127.0.0.1/', '7').get()
    expect([status, lastEventId, url, events]).toEqual(['connecting', '7', 'http://127.0.0.1/', 0])
  })

  it('returns the same snapshot until something changes', () => {
    const store = createStore('http://127.0.0.1/', '')
    expect(store.get()).toBe(store.get())
  })

  it('replaces the snapshot with a new frozen object on change', () => {
    const store = createStore('http://127.0.0.1/', '')
    const before = store.get()
    store.set({ status: 'open' })
    expect(store.get()).not.toBe(before)
    expect(store.get().status).toBe('open')
    expect(before.status).toBe('connecting')
    expect(Object.isFrozen(store.get())).toBe(true)
  })

  it('keeps the same snapshot and notifies nobody when a set changes nothing', () => {
    const store = createStore('http://127.0.0.1/', '7')
    const listener = vi.fn()
    store.subscribe(listener)
    const before = store.get()
    store.set({ status: 'connecting', lastEventId: '7', events: 0 })
    store.set({})
    expect(store.get()).toBe(before)
    expect(listener).not.toHaveBeenCalled()
  })

  it('notifies subscribers until they unsubscribe', () => {
    const store = createStore('http://127.0.0.1/', '')
    const listener = vi.fn()
    const unsubscribe = store.subscribe(listener)
    store.set({ events: 1 })
    unsubscribe()
    store.set({ events: 2 })
    expect(listener).toHaveBeenCalledOnce()
  })

  it('keeps notifying when one listener throws', () => {
    const store = createStore('http://127.0.0.1/', '')
    const after = vi.fn()
    store.subscribe(() => {
      throw new Error('bug in a binding')
    })
    store.subscribe(after)
    store.set({ events: 1 })
    expect(after).toHaveBeenCalledOnce()
  })
})
