// What one browser tab keeps across reloads, in sessionStorage (gone when the tab closes).

/** Reads a JSON value saved under `key`, or `fallback`. */
export function loadSession<T>(key: string, fallback: T): T {
  const saved = sessionStorage.getItem(`demo:${key}`)
  if (saved === null) return fallback
  try {
    return JSON.parse(saved) as T
  } catch {
    return fallback
  }
}

export function saveSession(key: string, value: unknown): void {
  sessionStorage.setItem(`demo:${key}`, JSON.stringify(value))
}

/**
 * This tab's name: the token subject its streams belong to (so a reload may re-attach to them)
 * and the demo client the network controls act on (so tabs never cut each other's streams).
 */
export const tabId: string = (() => {
  const saved = loadSession<string | undefined>('tab', undefined)
  if (saved) return saved
  const id = `tab-${crypto.randomUUID().replaceAll('-', '').slice(0, 16)}`
  saveSession('tab', id)
  return id
})()
