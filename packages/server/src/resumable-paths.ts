// Where a registry's streams live in the URL space the client sees, under any mount.
import { UnbrokenServerError } from './errors'

/** What a request's path says about the stream it is for. */
export interface StreamPath {
  /** The public prefix of stream URLs for this request: `Content-Location` is `${base}/${id}`. */
  readonly base: string
  /** The last segment when the path is one below `base`; `undefined` for `base` itself or outside. */
  readonly id: string | undefined
  /** The path lies under neither `basePath` nor the mount plus `basePath`. */
  readonly outside: boolean
}

/**
 * Locates streams under `basePath`, read either as the public path (`/api/streams`) or relative
 * to where the registry is mounted (`/streams` inside `app.use('/api', router)`), so that both
 * spellings work under Express, Connect, Fastify prefixes, Hono sub-apps and Next.js route folders.
 * `path` is the path the client requested (Express's `originalUrl`, not the router's `url`).
 */
export function locateStream(basePath: string, path: string, mountPath: string): StreamPath {
  const mounted = `${mountPath}${basePath}`
  for (const base of basePath === mounted ? [basePath] : [basePath, mounted]) {
    if (path === base) return { base, id: undefined, outside: false }
    if (path.startsWith(`${base}/`)) {
      const rest = path.slice(base.length + 1)
      return { base, id: rest.includes('/') ? undefined : rest, outside: rest.includes('/') }
    }
  }
  // Outside both (a POST to `/api/chat`, say): a basePath that already spells the mount out is public.
  const spelledOut = mountPath !== '' && basePath.startsWith(`${mountPath}/`)
  return { base: spelledOut ? basePath : mounted, id: undefined, outside: true }
}

/**
 * Whether the registry answers `method` at this path: POST at `basePath` itself, GET and DELETE
 * one below it, OPTIONS (the CORS preflight) at both. Framework helpers pass anything else on.
 */
export function servesRequest(method: string, located: StreamPath): boolean {
  if (located.outside) return false
  if (method === 'OPTIONS') return true
  return located.id === undefined ? method === 'POST' : method === 'GET' || method === 'DELETE'
}

/** A trailing-slash-free path that starts with `/` (`''` for the root), or a misuse error. */
export function normalizePath(name: string, value: string): string {
  if (value !== '' && !value.startsWith('/')) {
    throw new UnbrokenServerError(
      'invalid-argument',
      `${name} must start with "/", got "${value}".`,
    )
  }
  return value.replace(/\/+$/, '')
}

/** The 404 for a stream URL whose stream the log does not know, naming the URL tried. */
export function unknownStreamAt(path: string): UnbrokenServerError {
  return new UnbrokenServerError(
    'unknown-stream',
    `No stream at ${path}; it expired, was never created, or was created by an instance that does not share this event log.`,
  )
}

/** The 404 for a path that cannot name a stream of this registry, saying where streams live. */
export function outsideBasePath(
  path: string,
  located: StreamPath,
  basePath: string,
): UnbrokenServerError {
  const mount = located.base.slice(0, located.base.length - basePath.length)
  const how =
    mount === '' ? `basePath "${basePath}"` : `basePath "${basePath}" under the mount "${mount}"`
  return new UnbrokenServerError(
    'unknown-stream',
    `No stream at ${path}: the path is outside ${located.base}/, where this registry serves streams (${how}). Route ${located.base}/* to the registry, or set basePath to the path the client uses.`,
  )
}
