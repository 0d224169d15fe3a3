// Who is calling, whether they may create, read or cancel a stream, and until when they may read.
import { UnbrokenServerError } from './errors'
import type { StreamRequest } from './resumable-http'
import type { AuthorizeContext, ResumableStreamsOptions, StreamAction } from './resumable-types'

/** The stream metadata key that records its creator, handed back to `authorize` as `owner`. */
export const OWNER_KEY = 'principal'

/** The registry's `principal`, `authorize` and `expiresAt` hooks, with defaults and checks. */
export interface StreamAccess {
  /** Who is calling; `undefined` is anonymous. */
  principalOf(request: StreamRequest): Promise<string | undefined>
  /** Rejects with `unauthenticated` or `forbidden` unless `authorize` allows the action. */
  authorize(context: AuthorizeContext): Promise<void>
  /** Authorizes `action` for the caller, and returns who that is. */
  check(
    request: StreamRequest,
    action: StreamAction,
    streamId: string,
    owner: string | undefined,
  ): Promise<string | undefined>
  /** The caller's credential expiry for its SSE connection (epoch ms), if the hook gives one. */
  expiryOf(request: StreamRequest, principal: string | undefined): Promise<number | undefined>
}

type AccessOptions = Pick<ResumableStreamsOptions, 'principal' | 'authorize' | 'expiresAt'>

// Anyone may create; only the creator may read or cancel (an anonymous stream: anonymous callers).
const defaultAuthorize = (context: AuthorizeContext): boolean =>
  context.action === 'create' || context.owner === context.principal

/** Wraps the hooks once per registry; a refusal or a bad expiry becomes an error to answer with. */
export function createStreamAccess(options: AccessOptions): StreamAccess {
  const allows = options.authorize ?? defaultAuthorize

  const principalOf = async (request: StreamRequest) => options.principal?.(request)

  const authorize = async (context: AuthorizeContext) => {
    if (!(await allows(context))) throw denied(context.principal)
  }

  return {
    principalOf,
    authorize,
    async check(request, action, streamId, owner) {
      const principal = await principalOf(request)
      await authorize({ action, principal, owner, streamId, request })
      return principal
    },
    async expiryOf(request, principal) {
      const at = await options.expiresAt?.(request, principal)
      if (at === undefined || (typeof at === 'number' && at >= 0)) return at
      // A plain Error on purpose: a bad hook is a server bug, answered 500 and reported to onError,
      // not blamed on the client as 400 `invalid-argument`.
      throw new Error(
        `The expiresAt option must resolve to epoch ms, Infinity or undefined, got ${String(at)}.`,
      )
    },
  }
}

function denied(principal: string | undefined): UnbrokenServerError {
  return principal === undefined
    ? new UnbrokenServerError('unauthenticated', 'Sign in to use this stream.')
    : new UnbrokenServerError('forbidden', 'This stream belongs to someone else.')
}
