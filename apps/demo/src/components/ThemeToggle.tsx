import { useEffect, useState, useSyncExternalStore } from 'react'

type Theme = 'light' | 'dark'

const darkQuery = matchMedia('(prefers-color-scheme: dark)')

/** The system's theme, followed live (the stylesheet does the same while nothing is picked). */
function useSystemTheme(): Theme {
  return useSyncExternalStore(
    (listener) => {
      darkQuery.addEventListener('change', listener)
      return () => darkQuery.removeEventListener('change', listener)
    },
    () => (darkQuery.matches ? 'dark' : 'light'),
  )
}

/** Light or dark: the system's until the visitor picks one (kept in localStorage). */
export function ThemeToggle() {
  const system = useSystemTheme()
  const [picked, setPicked] = useState(() => localStorage.getItem('demo:theme') as Theme | null)
  useEffect(() => {
    if (picked) document.documentElement.dataset.theme = picked
  }, [picked])
  const theme = picked ?? system
  const next: Theme = theme === 'dark' ? 'light' : 'dark'
  return (
    <button
      type="button"
      aria-label={`Switch to ${next} mode`}
      onClick={() => {
        localStorage.setItem('demo:theme', next)
        setPicked(next)
      }}
    >
      {theme === 'dark' ? '☀︎' : '☾'}
    </button>
  )
}
