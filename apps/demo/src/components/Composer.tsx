import { type FormEvent, type KeyboardEvent, useState } from 'react'

interface Props {
  readonly running: boolean
  readonly canRegenerate: boolean
  readonly onSend: (question: string) => void
  readonly onStop: () => void
  readonly onRegenerate: () => void
}

/** The question box: Enter sends, Shift+Enter starts a new line; Stop while an answer runs. */
export function Composer({ running, canRegenerate, onSend, onStop, onRegenerate }: Props) {
  const [question, setQuestion] = useState('')
  const submit = (event?: FormEvent) => {
    event?.preventDefault()
    if (running || question.trim() === '') return
    onSend(question.trim())
    setQuestion('')
  }
  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    // Not while an input method is composing: its Enter confirms a character.
    if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) submit(event)
  }
  return (
    <form className="composer" onSubmit={submit}>
      <label htmlFor="question" className="visually-hidden">
        Your question
      </label>
      <textarea
        id="question"
        rows={2}
        value={question}
        placeholder="Ask anything, then break the network…"
        onChange={(event) => setQuestion(event.target.value)}
        onKeyDown={onKeyDown}
      />
      <div className="actions">
        <button type="button" onClick={onRegenerate} disabled={!canRegenerate}>
          Regenerate
        </button>
        {running ? (
          <button type="button" className="stop" onClick={onStop}>
            Stop
          </button>
        ) : (
          <button type="submit" className="primary" disabled={question.trim() === ''}>
            Send
          </button>
        )}
      </div>
    </form>
  )
}
