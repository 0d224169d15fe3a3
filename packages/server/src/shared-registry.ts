import { createResumableStreams } from './resumable'
import type { ResumableStreams, ResumableStreamsOptions } from './resumable-types'

// On `globalThis` under a `Symbol.for` key: a dev server that reloads modules (next dev, Vite SSR,
// HMR) or bundles one copy of this package per route still finds the registry, and with it the
// streams a reload would otherwise orphan (a resume would answer 404).
const REGISTRIES = Symbol.for('@unbroken/server/shared-registries')
type Holder = { [REGISTRIES]?: Map<string, ResumableStreams> }

/**
 * The process's registry named `name`, created with `options` on the first call; later calls (a
 * reloaded module, another route) get the same one, and their options are ignored. `close()` frees
 * the name. Use it wherever modules reload: Next.js route handlers, dev servers with HMR.
 */
export function getSharedResumableStreams(
  name: string,
  options?: ResumableStreamsOptions,
): ResumableStreams {
  const holder = globalThis as Holder
  holder[REGISTRIES] ??= new Map()
  const registries = holder[REGISTRIES]
  const existing = registries.get(name)
  if (existing) return existing
  const streams = createResumableStreams(options)
  const shared: ResumableStreams = Object.create(streams, {
    close: {
      value: async () => {
        if (registries.get(name) === shared) registries.delete(name)
        await streams.close()
      },
    },
  })
  registries.set(name, shared)
  return shared
}
