import { useEffect, useState } from 'react'

type Theme = 'light' | 'dark'

const systemTheme = (): Theme =>
  matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light'

/** Light or dark: the system's until the visitor picks one (kept in localStorage). */
export function ThemeToggle() {
  const [theme, setTheme] = useState<Theme>(
    () => (localStorage.getItem('demo:theme') as Theme | null) ?? systemTheme(),
  )
  useEffect(() => {
    document.documentElement.dataset.theme = theme
  }, [theme])
  const next: Theme = theme === 'dark' ? 'light' : 'dark'
  return (
    <button
      type="button"
      aria-label={`Switch to ${next} mode`}
      onClick={() => {
        localStorage.setItem('demo:theme', next)
        setTheme(next)
      }}
    >
      {theme === 'dark' ? '☀︎' : '☾'}
    </button>
  )
}
