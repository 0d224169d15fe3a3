// @vitest-environment jsdom
import { afterEach, expect, it, vi } from 'vitest'
import { createFrameScheduler } from './frame-scheduler'

const nextFrame = () => new Promise((resolve) => requestAnimationFrame(resolve))

/** Makes the page report itself hidden (or visible again), as a background tab does. */
const setHidden = (hidden: boolean) =>
  Object.defineProperty(document, 'hidden', { configurable: true, get: () => hidden })

afterEach(() => {
  setHidden(false)
})

it('runs one flush in the next animation frame however often it is scheduled', async () => {
  const flush = vi.fn()
  const scheduler = createFrameScheduler(flush)
  for (let i = 0; i < 100; i++) scheduler.schedule()
  expect(flush).not.toHaveBeenCalled()
  await nextFrame()
  expect(flush).toHaveBeenCalledOnce()
})

it('schedules again after a flush ran', async () => {
  const flush = vi.fn()
  const scheduler = createFrameScheduler(flush)
  scheduler.schedule()
  await nextFrame()
  scheduler.schedule()
  await nextFrame()
  expect(flush).toHaveBeenCalledTimes(2)
})

it('flushes on a timer in a hidden tab, where no animation frame runs', async () => {
  setHidden(true)
  const frames = vi.spyOn(globalThis, 'requestAnimationFrame')
  const flush = vi.fn()
  createFrameScheduler(flush).schedule()
  await vi.waitFor(() => expect(flush).toHaveBeenCalledOnce())
  expect(frames).not.toHaveBeenCalled()
})

it('flushNow runs a pending flush at once, and the frame then finds nothing to do', async () => {
  const flush = vi.fn()
  const scheduler = createFrameScheduler(flush)
  scheduler.schedule()
  scheduler.flushNow()
  expect(flush).toHaveBeenCalledOnce()
  await nextFrame()
  expect(flush).toHaveBeenCalledOnce()
})

it('flushNow does nothing when no flush is pending', () => {
  const flush = vi.fn()
  createFrameScheduler(flush).flushNow()
  expect(flush).not.toHaveBeenCalled()
})

it('cancel drops a pending flush', async () => {
  const flush = vi.fn()
  const scheduler = createFrameScheduler(flush)
  scheduler.schedule()
  scheduler.cancel()
  await nextFrame()
  expect(flush).not.toHaveBeenCalled()
})
