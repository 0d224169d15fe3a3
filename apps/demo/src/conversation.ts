// The conversation: the finished turns, and the question whose answer the hook is streaming. The
// live answer is never kept here (it is the hook's); it is archived as a finished turn only when
// the next question replaces it, because the hook holds one stream at a time.
import { useSyncExternalStore } from 'react'
import { loadSession, saveSession } from './session'

export interface Turn {
  readonly question: string
  readonly answer: string
  /** How the answer ended: `done`, `stopped` or `error` (with its code). */
  readonly ending: string
}

export interface Conversation {
  readonly turns: readonly Turn[]
  /** The question being answered by the hook's stream, if any. */
  readonly current: string | undefined
}

let conversation = loadSession<Conversation>('conversation', { turns: [], current: undefined })
const listeners = new Set<() => void>()

/** Replaces the conversation; kept in sessionStorage so a reload shows it again. */
export function setConversation(next: Conversation): void {
  conversation = next
  saveSession('conversation', next)
  for (const listener of listeners) listener()
}

/** The conversation now (also between a change and the render that shows it). */
export const getConversation = (): Conversation => conversation

export function useConversation(): Conversation {
  return useSyncExternalStore(
    (listener) => {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    () => conversation,
  )
}

/**
 * Moves the current question and its answer into the finished turns. Called when the answer ended
 * (the hook forgets a finished stream, and a reload must still show it) and when the next
 * question replaces a failed one.
 */
export function archiveAnswer(answer: string, ending: string): void {
  const { turns, current } = conversation
  if (current === undefined) return
  setConversation({ turns: [...turns, { question: current, answer, ending }], current: undefined })
}

/** The chat messages for the proxy: every finished turn, then `question`. */
export function messagesFor(turns: readonly Turn[], question: string) {
  return [
    ...turns.flatMap((turn) => [
      { role: 'user' as const, content: turn.question },
      { role: 'assistant' as const, content: turn.answer },
    ]),
    { role: 'user' as const, content: question },
  ]
}
