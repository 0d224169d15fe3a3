/**
 * A hidden tab runs no animation frames, so there a timer of about one frame takes over (the
 * browser clamps it to ~1 s in the background, which is fine for a tab nobody sees).
 */
const HIDDEN_TAB_FLUSH_MS = 16

/**
 * Runs `flush` at most once per animation frame, however often `schedule` is called, so a stream
 * of 1,000 events/s renders at the display's rate. `flushNow` runs a pending flush at once (when
 * the tab's visibility changes, so that a tab shows the current text the moment it is visible).
 */
export const createFrameScheduler = (flush: () => void) => {
  let pending = false
  // A frame or timer that fires after `flushNow` or `cancel` finds nothing pending.
  const run = () => {
    if (!pending) return
    pending = false
    flush()
  }
  return {
    schedule() {
      if (pending) return
      pending = true
      // Outside a browser (no document: React Native, tests) a timer paces it as well.
      if (globalThis.document?.hidden === false) requestAnimationFrame(run)
      else setTimeout(run, HIDDEN_TAB_FLUSH_MS)
    },
    flushNow: run,
    cancel() {
      pending = false
    },
  }
}
