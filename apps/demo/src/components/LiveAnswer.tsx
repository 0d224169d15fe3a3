import type { LLMStream } from '@unbroken/react'
import { adviceFor } from '../advice'
import { Markdown } from './Markdown'

interface Props {
  readonly stream: LLMStream
  readonly onRegenerate: () => void
}

/** The answer being streamed, straight from the hook: text, thinking, and what went wrong. */
export function LiveAnswer({ stream, onRegenerate }: Props) {
  const { text, status, error } = stream
  const streaming = status === 'streaming' || status === 'reconnecting'
  return (
    <article
      className="answer live"
      data-testid="live-answer"
      data-status={status}
      aria-live="polite"
      aria-busy={status === 'waiting' || streaming}
    >
      {status === 'waiting' && (
        <p className="thinking">
          <span className="dots" aria-hidden="true" /> Thinking…
        </p>
      )}
      {text && <Markdown text={text} streaming={streaming} />}
      {status === 'idle' && (
        <p className="ending">This answer was not kept. Regenerate to ask again.</p>
      )}
      {status === 'error' && error && (
        <div className="error" role="alert">
          <p>
            <code>{error.serverCode ?? error.code}</code> {error.message}
          </p>
          <p>{adviceFor(error)}</p>
          <div className="actions">
            <button type="button" onClick={stream.retry}>
              Retry
            </button>
            <button type="button" onClick={onRegenerate}>
              Regenerate
            </button>
          </div>
        </div>
      )}
    </article>
  )
}
