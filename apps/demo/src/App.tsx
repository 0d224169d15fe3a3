import type { RequestContext } from '@unbroken/client'
import { useLLMStream } from '@unbroken/react'
import { useEffect, useState } from 'react'
import { authorization, refreshToken } from './auth'
import { Composer } from './components/Composer'
import { ConversationView } from './components/ConversationView'
import { Header } from './components/Header'
import { NetworkPanel } from './components/NetworkPanel'
import { StatusLine } from './components/StatusLine'
import { Timeline } from './components/Timeline'
import { clearConnections, observedFetch } from './connections'
import {
  archiveAnswer,
  getConversation,
  messagesFor,
  setConversation,
  useConversation,
} from './conversation'
import { type DemoInfo, faultHeader, loadDemoInfo } from './network'
import { tabId } from './session'

// Every request of the stream: a fresh token, this tab's name for the network controls, and on
// the POST only, the faults chosen for the next answer.
const headers = async ({ method }: RequestContext) => ({
  ...(await authorization()),
  'x-demo-client': tabId,
  ...(method === 'POST' && faultHeader()),
})

const RUNNING = new Set(['waiting', 'streaming', 'reconnecting'])

export function App() {
  const stream = useLLMStream({
    api: '/v1/streams',
    id: 'demo-answer',
    fetch: observedFetch,
    headers,
    onAuthRequired: refreshToken,
  })
  const conversation = useConversation()
  const [info, setInfo] = useState<DemoInfo>()
  const [panelOpen, setPanelOpen] = useState(false)
  useEffect(() => {
    loadDemoInfo().then(setInfo, () => setInfo({ controls: false, upstream: undefined }))
  }, [])
  const { status, text } = stream
  // A finished answer joins the conversation; a failed one stays live, so Retry can resume it.
  useEffect(() => {
    if (status === 'done' || status === 'stopped') archiveAnswer(text, status)
  }, [status, text])

  const running = RUNNING.has(status)
  const send = (question: string, turns = getConversation().turns) => {
    clearConnections()
    setConversation({ turns, current: question })
    // A new seed each time, so Regenerate gives another answer (same seed, same text).
    stream.send({
      messages: messagesFor(turns, question),
      seed: Math.floor(Math.random() * 2 ** 31),
    })
  }
  const ask = (question: string) => {
    const { error } = stream
    archiveAnswer(text, error ? `error ${error.serverCode ?? error.code}` : 'interrupted')
    send(question)
  }
  const regenerate = () => {
    const { turns, current } = conversation
    const last = turns.at(-1)
    if (current !== undefined) send(current)
    else if (last) send(last.question, turns.slice(0, -1))
  }
  const clear = () => {
    stream.reset()
    clearConnections()
    setConversation({ turns: [], current: undefined })
  }

  return (
    <div className="app">
      <Header
        panelOpen={panelOpen}
        onTogglePanel={() => setPanelOpen((open) => !open)}
        onClear={clear}
      />
      <main className="chat">
        <StatusLine status={status} metrics={stream.metrics} />
        <ConversationView
          conversation={conversation}
          stream={stream}
          onAsk={ask}
          onRegenerate={regenerate}
        />
        <Composer
          running={running}
          canRegenerate={
            !running && (conversation.current ?? conversation.turns.at(-1)) !== undefined
          }
          onSend={ask}
          onStop={() => void stream.stop()}
          onRegenerate={regenerate}
        />
      </main>
      <aside className="panel" id="network-panel" data-open={panelOpen}>
        <NetworkPanel info={info} />
        <Timeline />
      </aside>
    </div>
  )
}
