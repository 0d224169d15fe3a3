import { type Connection, useConnections } from '../connections'

const ENDINGS: Record<string, string> = {
  open: 'open',
  dropped: 'dropped',
  done: 'done',
  error: 'error event',
  'auth-expired': 'token expired',
  closed: 'closed by server',
  aborted: 'closed by client',
  reloaded: 'page reloaded',
}

const range = ({ firstId, lastId }: Connection) =>
  firstId === undefined
    ? 'no events yet'
    : firstId === lastId
      ? `id ${firstId}`
      : `ids ${firstId}–${lastId}`

/** Each connection of the current answer: where it resumed, which ids it carried, how it ended. */
export function Timeline() {
  const connections = useConnections()
  return (
    <section className="card timeline" aria-labelledby="timeline-title">
      <h2 id="timeline-title">Connections</h2>
      {connections.length === 0 ? (
        <p className="muted">Each connection of the answer appears here.</p>
      ) : (
        <ol data-testid="timeline">
          {connections.map((connection) => (
            <li
              key={connection.key}
              data-end={connection.end}
              data-after={connection.after}
              data-first={connection.firstId}
              data-last={connection.lastId}
            >
              <span className="request">
                {connection.method}{' '}
                {connection.after === undefined ? 'new' : `after ${connection.after}`}
              </span>
              <span className="ids">{range(connection)}</span>
              <span className="detail">
                {connection.replayed > 0 && `${connection.replayed} replayed · `}
                {connection.keepalives > 0 && `${connection.keepalives} keepalive · `}
                {ENDINGS[connection.end] ?? connection.end.replace('http-', 'HTTP ')}
              </span>
            </li>
          ))}
        </ol>
      )}
    </section>
  )
}
