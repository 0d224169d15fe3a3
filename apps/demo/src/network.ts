// The network panel's settings and what they do: flaky and slow are played by the proxy on this
// tab's sockets (`--demo-controls on`), token lifetime by minting shorter tokens, and a stalled or
// slow-starting model by the simulated upstream's fault header on the next question.
import { useSyncExternalStore } from 'react'
import { setTokenLifetime } from './auth'
import { loadSession, saveSession, tabId } from './session'

export interface NetworkSettings {
  /** The proxy drops this tab's connection every few seconds. */
  readonly flaky: boolean
  /** The proxy delivers this tab's streams at a trickle. */
  readonly slow: boolean
  /** Seconds a token lives; `undefined` for the proxy's default (15 min). */
  readonly tokenLifetime: number | undefined
  /** The next answer stops after a few tokens while the connection stays open. */
  readonly stall: boolean
  /** The next answer thinks for several seconds before its first token. */
  readonly longPrefill: boolean
}

export const FLAKY_EVERY_MS = 3000
export const SLOW_BYTES_PER_SECOND = 400
/** Token lifetimes offered. The proxy ends a connection 5 s before its token expires. */
export const TOKEN_LIFETIMES = [undefined, 30, 10, 7] as const
const STALL_AFTER_TOKENS = 12
const LONG_PREFILL_MS = 6000

const initial: NetworkSettings = {
  flaky: false,
  slow: false,
  tokenLifetime: undefined,
  stall: false,
  longPrefill: false,
}

let settings = loadSession<NetworkSettings>('network', initial)
const listeners = new Set<() => void>()

function apply(next: NetworkSettings): Promise<Response> {
  setTokenLifetime(next.tokenLifetime)
  return fetch(`/demo/clients/${tabId}/network`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      ...(next.flaky && { flakyEveryMs: FLAKY_EVERY_MS }),
      ...(next.slow && { bytesPerSecond: SLOW_BYTES_PER_SECOND }),
    }),
  })
}

/** Changes some settings; flaky and slow reach the open connection at once. */
export async function updateNetwork(change: Partial<NetworkSettings>): Promise<void> {
  settings = { ...settings, ...change }
  saveSession('network', settings)
  for (const listener of listeners) listener()
  await apply(settings)
}

/** The settings, rendered through React's store API. */
export function useNetworkSettings(): NetworkSettings {
  return useSyncExternalStore(
    (listener) => {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    () => settings,
  )
}

/**
 * Destroys this tab's stream connection at the proxy, as a dropped network would; resolves with
 * how many connections were open to drop.
 */
export async function dropConnection(): Promise<number> {
  const response = await fetch(`/demo/clients/${tabId}/drop`, { method: 'POST' })
  return ((await response.json()) as { dropped: number }).dropped
}

/** The simulated model's faults for the next question (`x-unbroken-fault`), if any. */
export function faultHeader(): Record<string, string> {
  const faults = [
    settings.longPrefill && `slow-start=${LONG_PREFILL_MS}`,
    settings.stall && `stall-after=${STALL_AFTER_TOKENS}`,
  ].filter(Boolean)
  return faults.length > 0 ? { 'x-unbroken-fault': faults.join(', ') } : {}
}

/** What the proxy offers: `controls` false when it runs without `--demo-controls on`. */
export interface DemoInfo {
  readonly controls: boolean
  readonly upstream: string | undefined
}

/** Asks the proxy what it offers, and re-applies this tab's settings (after a reload or restart). */
export async function loadDemoInfo(): Promise<DemoInfo> {
  const response = await fetch('/demo/info')
  if (!response.ok) return { controls: false, upstream: undefined }
  await apply(settings)
  return (await response.json()) as DemoInfo
}
