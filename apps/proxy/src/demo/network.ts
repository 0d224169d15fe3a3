// The demo's bad network, played by the server on real sockets: a stream connection can be cut
// (its socket destroyed, as a dropped Wi-Fi would), cut again every few seconds, or throttled.
// Each browser tab is one "client" (the `x-demo-client` header), so tabs and tests never cut each
// other's streams. Opt-in (`--demo-controls on`): never part of a production proxy.
import type { Socket } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Logger } from '../logger'

/** The network one client sees; `undefined` means "as fast and steady as the machine allows". */
export interface NetworkConditions {
  /** Destroy the client's stream connections every this many ms. */
  readonly flakyEveryMs?: number | undefined
  /** Deliver stream bodies at this many bytes per second. */
  readonly bytesPerSecond?: number | undefined
}

/** The demo's network, shared by every connection of the proxy. */
export interface DemoNetwork {
  /** The client's conditions, or none. */
  conditions(client: string): NetworkConditions
  /** Replaces the client's conditions; they apply at once to its open connections. */
  set(client: string, conditions: NetworkConditions): void
  /** Destroys the sockets of the client's open stream connections; returns how many. */
  drop(client: string): number
  /**
   * Tracks a stream response body sent over `socket` for `client`: the returned body is the same
   * bytes, paced by the client's conditions, and `drop` reaches its socket until the body ends.
   */
  carry(
    client: string,
    socket: Socket,
    body: ReadableStream<Uint8Array>,
  ): ReadableStream<Uint8Array>
  /** Stops every flaky timer (shutdown). */
  close(): void
}

// A throttled body goes out in slices a tenth of a second's worth, so it trickles like a slow link
// instead of arriving as a burst after a long pause.
const SLICES_PER_SECOND = 10

interface ClientState {
  conditions: NetworkConditions
  readonly sockets: Set<Socket>
  flaky: NodeJS.Timeout | undefined
}

export function createDemoNetwork(logger: Logger): DemoNetwork {
  const clients = new Map<string, ClientState>()
  const stateOf = (client: string) => {
    let state = clients.get(client)
    if (!state) {
      state = { conditions: {}, sockets: new Set(), flaky: undefined }
      clients.set(client, state)
    }
    return state
  }
  // A client with no connection and a steady network holds nothing worth keeping.
  const forgetIfIdle = (client: string, state: ClientState) => {
    if (state.sockets.size === 0 && state.flaky === undefined && !state.conditions.bytesPerSecond)
      clients.delete(client)
  }

  const drop = (client: string, why: 'requested' | 'flaky') => {
    const state = clients.get(client)
    if (!state) return 0
    const count = state.sockets.size
    for (const socket of state.sockets) socket.destroy()
    state.sockets.clear()
    if (count > 0) logger.info({ client, connections: count, why }, 'demo connections dropped')
    return count
  }

  return {
    conditions: (client) => clients.get(client)?.conditions ?? {},

    set(client, conditions) {
      const state = stateOf(client)
      state.conditions = conditions
      clearInterval(state.flaky)
      state.flaky = conditions.flakyEveryMs
        ? setInterval(() => drop(client, 'flaky'), conditions.flakyEveryMs).unref()
        : undefined
      logger.info({ client, ...conditions }, 'demo network set')
      forgetIfIdle(client, state)
    },

    drop: (client) => drop(client, 'requested'),

    carry(client, socket, body) {
      const state = stateOf(client)
      state.sockets.add(socket)
      const release = () => {
        state.sockets.delete(socket)
        forgetIfIdle(client, state)
      }
      const reader = body.getReader()
      let slice: Uint8Array | undefined
      return new ReadableStream<Uint8Array>({
        async pull(controller) {
          if (!slice?.byteLength) {
            const chunk = await reader.read()
            if (chunk.done) {
              release()
              controller.close()
              return
            }
            slice = chunk.value
          }
          const rate = state.conditions.bytesPerSecond
          if (!rate) {
            controller.enqueue(slice)
            slice = undefined
            return
          }
          const size = Math.max(1, Math.ceil(rate / SLICES_PER_SECOND))
          controller.enqueue(slice.subarray(0, size))
          slice = slice.subarray(size)
          await sleep(1000 / SLICES_PER_SECOND)
        },
        cancel(reason) {
          release()
          return reader.cancel(reason)
        },
      })
    },

    close() {
      for (const state of clients.values()) clearInterval(state.flaky)
      clients.clear()
    },
  }
}
