import { useId } from 'react'

interface Props {
  readonly label: string
  readonly hint: string
  readonly checked: boolean
  readonly onChange: (checked: boolean) => void
}

/** A labelled on/off switch: a native checkbox, so keyboard and screen readers work as usual. */
export function Switch({ label, hint, checked, onChange }: Props) {
  const hintId = useId()
  return (
    <label className="switch">
      <input
        type="checkbox"
        role="switch"
        checked={checked}
        aria-checked={checked}
        aria-describedby={hintId}
        onChange={(event) => onChange(event.target.checked)}
      />
      <span className="switch-label">{label}</span>
      <small id={hintId} className="hint">
        {hint}
      </small>
    </label>
  )
}
