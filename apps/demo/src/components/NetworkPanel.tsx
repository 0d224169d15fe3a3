import { useState } from 'react'
import {
  type DemoInfo,
  dropConnection,
  FLAKY_EVERY_MS,
  SLOW_BYTES_PER_SECOND,
  TOKEN_LIFETIMES,
  updateNetwork,
  useNetworkSettings,
} from '../network'
import { Switch } from './Switch'

const lifetimeLabel = (seconds: number | undefined) =>
  seconds === undefined ? '15 minutes (default)' : `${seconds} seconds`

/** Controls that break this tab's network on purpose, played by the proxy on real sockets. */
export function NetworkPanel({ info }: { info: DemoInfo | undefined }) {
  const settings = useNetworkSettings()
  // Connections cut so far, and whether the last click found one open (none once an answer ended).
  const [drops, setDrops] = useState<{ total: number; last: number } | undefined>()
  const simulated = info?.upstream === 'simulated'
  if (info && !info.controls) {
    return (
      <section className="card" aria-labelledby="network-title">
        <h2 id="network-title">Network</h2>
        <p className="muted">
          This proxy runs without <code>--demo-controls on</code>.
        </p>
      </section>
    )
  }
  return (
    <section className="card network" aria-labelledby="network-title">
      <h2 id="network-title">Network</h2>
      <button
        type="button"
        className="drop"
        onClick={() =>
          dropConnection().then((last) =>
            setDrops((before) => ({ total: (before?.total ?? 0) + last, last })),
          )
        }
      >
        Drop connection now
      </button>
      <p className="hint" aria-live="polite">
        {drops === undefined
          ? 'The proxy destroys this tab’s socket.'
          : drops.last === 0
            ? 'No open connection to drop.'
            : `Dropped ${drops.total}×: the proxy destroyed the socket.`}
      </p>
      <Switch
        label="Flaky network"
        hint={`A drop every ${FLAKY_EVERY_MS / 1000} s`}
        checked={settings.flaky}
        onChange={(flaky) => updateNetwork({ flaky })}
      />
      <Switch
        label="Slow network"
        hint={`${SLOW_BYTES_PER_SECOND} bytes/s`}
        checked={settings.slow}
        onChange={(slow) => updateNetwork({ slow })}
      />
      <label className="field">
        <span>Token lifetime</span>
        <select
          value={settings.tokenLifetime ?? ''}
          onChange={(event) =>
            updateNetwork({ tokenLifetime: Number(event.target.value) || undefined })
          }
        >
          {TOKEN_LIFETIMES.map((seconds) => (
            <option key={seconds ?? 'default'} value={seconds ?? ''}>
              {lifetimeLabel(seconds)}
            </option>
          ))}
        </select>
        <small className="hint">auth-expired 5 s before expiry; the app refreshes the token.</small>
      </label>
      <fieldset className="faults" disabled={!simulated}>
        <legend>Next answer {simulated ? '' : '(simulated model only)'}</legend>
        <Switch
          label="Stall upstream"
          hint="Silent after 12 tokens, then a timeout"
          checked={settings.stall}
          onChange={(stall) => updateNetwork({ stall })}
        />
        <Switch
          label="Long prefill"
          hint="6 s before the first token"
          checked={settings.longPrefill}
          onChange={(longPrefill) => updateNetwork({ longPrefill })}
        />
      </fieldset>
    </section>
  )
}
