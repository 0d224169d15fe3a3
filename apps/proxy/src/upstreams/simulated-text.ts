// What the simulated model says: a deterministic function of the conversation and the seed. The
// corpus is chosen to stress clients the way real answers do: CJK, emoji (ZWJ sequences, skin
// tones, flags, variation selectors), combining marks and Markdown with fenced code blocks.
import type { GenerationRequest, Message, Tool } from '../request'

/** A seeded generator of floats in [0, 1) (mulberry32: tiny, fast, good enough for text). */
export type Random = () => number

export function createRandom(seed: number): Random {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

/** The seed of a request: FNV-1a over the messages and the request's `seed`. */
export function seedOf(request: Pick<GenerationRequest, 'messages' | 'seed'>): number {
  const text = `${request.seed ?? 0}\u0000${JSON.stringify(request.messages)}`
  let hash = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193)
  }
  return hash >>> 0
}

const OPENINGS = [
  'Here is an answer, streamed token by token.',
  'Good question. Let me walk through it step by step.',
  'Short version first, details after.',
  'This is the simulated model speaking; every word of it is deterministic.',
]

const SECTIONS = [
  '## Why streams break\n\nA proxy in the middle may buffer the response, a load balancer may cut an idle connection after 60 s, and a phone may switch networks mid-sentence.',
  '## How resume works\n\nEvery event carries an `id`. After a drop, the client reconnects with `Last-Event-ID` and the server replays what it missed — nothing lost, nothing twice.',
  'In Japanese: ストリームは途切れません。In Chinese: 流式传输不会丢失任何一个字。In Korean: 스트림은 끊기지 않습니다.',
  'Emoji survive too: 🚀 a rocket, 👩‍💻 a ZWJ sequence, 👍🏽 a skin tone, 🇳🇴 a flag, and ❤️ with a variation selector.',
  'Combining marks: cafe\u0301, Sa\u0303o Paulo, Tie\u0302\u0301ng Vie\u0323\u0302t and n\u0303; also Hindi नमस्ते and Arabic مرحبا بالعالم.',
  '```ts\nconst stream = createEventStream(url, { method: "POST", body })\nfor await (const event of stream) {\n  process.stdout.write(JSON.parse(event.data).text ?? "")\n}\n```',
  "```python\nfor chunk in stream:\n    print(chunk.text, end='', flush=True)  # never a partial character\n```",
  '1. The proxy writes each token to a log.\n2. Any connection replays from its cursor.\n3. `DELETE` stops the generation; a dropped connection does not.',
  '| fault | what the client sees |\n| --- | --- |\n| cut | a reconnect, then the rest |\n| stall | keepalives, then a timeout |\n| truncation | an `upstream-truncated` error |',
  '> A stream that ends without its end marker is an error, never a success.',
  'Math in plain text: ∑ᵢ xᵢ² ≤ ε, and arrows → ⇒ ↔; quotes „like“ «these» and ‚these‘.',
]

const CLOSINGS = [
  'That is all: the stream ends with `done`.',
  'Hope this helps! 🙂',
  'Ask again with another seed for a different answer.',
]

const REASONING = [
  'The user wants an explanation. ',
  'I should cover cuts, resume and truncation, ',
  'then show a short code sample. ',
  'Keep it concise; mention Last-Event-ID. ',
  'Check: multi-byte text must arrive intact — 字, 🚀, e\u0301. ',
]

const CITIES = ['Oslo', 'Kyoto', 'São Paulo', 'Zürich', 'Reykjavík', 'Nairobi']

/** Picks one element. */
const pick = <T>(random: Random, items: readonly T[]): T =>
  items[Math.floor(random() * items.length)] as T

/** A Fisher–Yates shuffled copy. */
function shuffle<T>(random: Random, items: readonly T[]): T[] {
  const copy = [...items]
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[copy[i], copy[j]] = [copy[j] as T, copy[i] as T]
  }
  return copy
}

const lastUserText = (messages: readonly Message[]): string => {
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i] as Message
    if (message.role === 'user') return message.content
  }
  return ''
}

/** The answer text. Its length and order vary with the seed; its content never depends on time. */
export function composeAnswer(random: Random, messages: readonly Message[]): string {
  const last = messages[messages.length - 1]
  if (last?.role === 'tool') {
    return `The tool answered: ${last.content}\n\nSo that settles it. ${pick(random, CLOSINGS)}`
  }
  const words = lastUserText(messages).split(/\s+/).filter(Boolean).slice(0, 8).join(' ')
  const parts = [pick(random, OPENINGS)]
  if (words) parts.push(`You asked: “${words}”.`)
  const count = 3 + Math.floor(random() * 4)
  parts.push(...shuffle(random, SECTIONS).slice(0, count), pick(random, CLOSINGS))
  return parts.join('\n\n')
}

/** Reasoning text, for requests that ask for it. */
export function composeReasoning(random: Random): string {
  return REASONING.filter(() => random() < 0.8).join('') || (REASONING[0] as string)
}

/** The tool the request asks for: offered, and named in the prompt (or the prompt says "tool"). */
export function requestedTool(request: GenerationRequest): Tool | undefined {
  const tools = request.tools ?? []
  if (tools.length === 0) return undefined
  const last = request.messages[request.messages.length - 1]
  if (last?.role !== 'user') return undefined
  const prompt = last.content.toLowerCase()
  return (
    tools.find((tool) => prompt.includes(tool.name.toLowerCase())) ??
    (/\btools?\b/.test(prompt) ? tools[0] : undefined)
  )
}

/** Arguments that satisfy a simple JSON Schema object: a value per property, seeded. */
export function composeArguments(random: Random, tool: Tool): string {
  const properties = (tool.parameters.properties ?? {}) as Record<string, Record<string, unknown>>
  const args: Record<string, unknown> = {}
  for (const [name, schema] of Object.entries(properties)) {
    args[name] = valueFor(random, name, schema)
  }
  return JSON.stringify(args)
}

function valueFor(random: Random, name: string, schema: Record<string, unknown>): unknown {
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return pick(random, schema.enum)
  switch (schema.type) {
    case 'integer':
    case 'number':
      return Math.floor(random() * 100)
    case 'boolean':
      return random() < 0.5
    case 'array':
      return []
    case 'object':
      return {}
    default:
      return /city|location|place|town/i.test(name)
        ? pick(random, CITIES)
        : `${name} ${pick(random, ['α', 'β', '✓', '東'])}`
  }
}

// Roughly how a BPE tokenizer cuts text: short word pieces with their leading space, one CJK
// character, one emoji sequence, runs of spaces or newlines; anything else one code point at a
// time. Pieces never split a code point (as every API guarantees), but a combining mark may land
// in the next piece, as real tokenizers do.
const TOKEN =
  /\p{Extended_Pictographic}(?:\p{Emoji_Modifier}|\uFE0F|\u200D\p{Extended_Pictographic})*|\p{Regional_Indicator}{1,2}|[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]|\n+| ?[\p{L}\p{M}]{1,5}| ?\p{N}{1,3}| +|./gsu

/** Splits text into tokens whose concatenation is exactly the text. */
export function tokenize(text: string): string[] {
  return text.match(TOKEN) ?? []
}
