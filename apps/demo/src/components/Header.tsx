import { ThemeToggle } from './ThemeToggle'

interface Props {
  readonly panelOpen: boolean
  readonly onTogglePanel: () => void
  readonly onClear: () => void
}

export function Header({ panelOpen, onTogglePanel, onClear }: Props) {
  return (
    <header className="header">
      <h1>
        <span className="logo" aria-hidden="true" />
        Unbroken <span className="muted">demo</span>
      </h1>
      <nav className="header-actions" aria-label="Page">
        <button type="button" onClick={onClear}>
          New chat
        </button>
        <button
          type="button"
          className="panel-toggle"
          aria-expanded={panelOpen}
          aria-controls="network-panel"
          onClick={onTogglePanel}
        >
          Network
        </button>
        <ThemeToggle />
      </nav>
    </header>
  )
}
