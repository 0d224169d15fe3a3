import { UnbrokenServerError } from '@unbroken/server'

/**
 * The error a stream's state stands for: `unknown-stream` or a status from meta (`complete`,
 * `lost`, `failed`) as the scripts report it, or what the tail saw (`vanished`: its keys are gone
 * from Redis; `unreachable`: Redis stopped answering). One place, so that producers and readers on
 * every instance tell clients the same thing.
 */
export function stateError(state: string): UnbrokenServerError {
  switch (state) {
    case 'unknown-stream':
      return new UnbrokenServerError('unknown-stream', 'No such stream; it may have expired.')
    case 'complete':
      return new UnbrokenServerError('stream-complete', 'This stream has already ended.')
    case 'lost':
      return new UnbrokenServerError(
        'producer-lost',
        'The server producing this stream stopped before it finished; start a new stream.',
      )
    case 'failed':
      // Final: the marker is the stream's last word, so a resume would only replay it.
      return new UnbrokenServerError(
        'log-unavailable',
        'This stream broke off when its event log became unreachable; start a new stream.',
        { retryable: false },
      )
    case 'unreachable':
      return new UnbrokenServerError(
        'log-unavailable',
        'The event log stopped answering; resume in a moment.',
      )
    default:
      // `vanished` (a restart without persistence, an eviction, a flush): the resume then gets a
      // definite 404, or the stream if only this instance's view was stale.
      return new UnbrokenServerError(
        'log-unavailable',
        'The event log lost track of this stream; resume to find out whether it still exists.',
      )
  }
}
