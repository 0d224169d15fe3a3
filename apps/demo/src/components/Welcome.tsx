const EXAMPLES = [
  'Explain resumable streams, with a code example',
  'Why do chat answers get cut off?',
  'Show me a table of retry strategies',
]

/** The empty conversation: what the demo is, and a few questions to start with. */
export function Welcome({ onAsk }: { onAsk: (question: string) => void }) {
  return (
    <section className="welcome" aria-labelledby="welcome-title">
      <h2 id="welcome-title">Break the network. The answer keeps going.</h2>
      <p>
        Ask something, then use the network panel: drop the connection, make it flaky or slow, let
        the token expire, or reload the page. Each answer arrives whole, every token once.
      </p>
      <ul className="examples">
        {EXAMPLES.map((example) => (
          <li key={example}>
            <button type="button" onClick={() => onAsk(example)}>
              {example}
            </button>
          </li>
        ))}
      </ul>
    </section>
  )
}
