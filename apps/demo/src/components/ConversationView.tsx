import type { LLMStream } from '@unbroken/react'
import { useEffect, useRef } from 'react'
import type { Conversation } from '../conversation'
import { LiveAnswer } from './LiveAnswer'
import { Markdown } from './Markdown'
import { Welcome } from './Welcome'

interface Props {
  readonly conversation: Conversation
  readonly stream: LLMStream
  readonly onAsk: (question: string) => void
  readonly onRegenerate: () => void
}

export function ConversationView({ conversation, stream, onAsk, onRegenerate }: Props) {
  const end = useRef<HTMLDivElement>(null)
  const { turns, current } = conversation
  // Follow the answer as it grows, unless the reader scrolled up to read something else.
  useEffect(() => {
    const bottom = end.current?.getBoundingClientRect().top ?? 0
    if (stream.text && bottom < window.innerHeight + 200)
      end.current?.scrollIntoView({ block: 'end' })
  }, [stream.text])

  if (turns.length === 0 && current === undefined) {
    return (
      <div className="conversation">
        <Welcome onAsk={onAsk} />
      </div>
    )
  }
  return (
    <div className="conversation">
      <ol aria-label="Conversation">
        {turns.map((turn, index) => (
          // Turns are only ever appended, so the index is a stable key.
          // biome-ignore lint/suspicious/noArrayIndexKey: append-only list
          <li key={index} className="turn">
            <p className="question">{turn.question}</p>
            <article className="answer" data-ending={turn.ending}>
              <Markdown text={turn.answer} streaming={false} />
              {turn.ending !== 'done' && <p className="ending">Answer {turn.ending}.</p>}
            </article>
          </li>
        ))}
        {current !== undefined && (
          <li className="turn">
            <p className="question">{current}</p>
            <LiveAnswer stream={stream} onRegenerate={onRegenerate} />
          </li>
        )}
      </ol>
      <div ref={end} />
    </div>
  )
}
