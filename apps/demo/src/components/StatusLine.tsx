import type { LLMMetrics, LLMStatus } from '@unbroken/react'

const LABELS: Record<LLMStatus, string> = {
  idle: 'Ready',
  waiting: 'Thinking',
  streaming: 'Streaming',
  reconnecting: 'Reconnecting',
  done: 'Done',
  stopped: 'Stopped',
  error: 'Error',
}

interface Props {
  readonly status: LLMStatus
  readonly metrics: LLMMetrics
}

/** Where the stream stands, and what it measured: straight from the hook. */
export function StatusLine({ status, metrics }: Props) {
  const { timeToFirstToken, tokensPerSecond, reconnects, replayed } = metrics
  return (
    <div className="status-line">
      <span className="state" data-status={status} role="status" data-testid="status">
        {LABELS[status]}
      </span>
      <dl className="metrics">
        <Metric
          label="first token"
          value={timeToFirstToken === undefined ? undefined : `${Math.round(timeToFirstToken)} ms`}
        />
        <Metric label="tokens/s" value={tokensPerSecond?.toFixed(0)} />
        <Metric label="reconnects" value={String(reconnects)} testId="reconnects" />
        <Metric label="replayed" value={String(replayed)} testId="replayed" />
      </dl>
    </div>
  )
}

function Metric({
  label,
  value,
  testId,
}: {
  label: string
  value: string | undefined
  testId?: string
}) {
  return (
    <div>
      <dt>{label}</dt>
      <dd data-testid={testId}>{value ?? '–'}</dd>
    </div>
  )
}
