// The one payload every suite sends: an OpenAI chat-completion chunk per event, built as an object
// and serialised with JSON.stringify per event, as a proxy or an app relaying a model does. A
// 37-byte constant string once made coalescing look 3× better than users see, so no suite invents
// its own payload. Deterministic in the event number, so every process builds the same bytes.

const ASCII = [
  ' the',
  ' a',
  ' of',
  ' and',
  ' to',
  ' stream',
  ' token',
  ' model',
  'ing',
  ' is',
  '.',
  ',',
]
const WIDE = ['é', ' café', '你好', '🦄', ' naïve', 'ü', '—', '…', ' Straße', 'данные']

/** A cheap integer hash (from MurmurHash3's finaliser), so token choice looks random but is fixed. */
function mix(i: number): number {
  let h = Math.imul(i ^ (i >>> 16), 0x85ebca6b)
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35)
  return (h ^ (h >>> 16)) >>> 0
}

/** Event `i`'s token: about one in ten is multi-byte (accents, CJK, emoji), as in real output. */
export function token(i: number): string {
  const h = mix(i)
  const pool = h % 10 === 0 ? WIDE : ASCII
  return pool[(h >>> 8) % pool.length] as string
}

/** Event `i` as the object OpenAI's Chat Completions API streams (`stream: true`). */
export function chatCompletionChunk(i: number) {
  return {
    id: 'chatcmpl-AZq3bT8Yk2mVwQe7RfLx0NcHdP5sG',
    object: 'chat.completion.chunk',
    created: 1733097600,
    model: 'gpt-4o-mini-2024-07-18',
    system_fingerprint: 'fp_0ba0d124f1',
    choices: [{ index: 0, delta: { content: token(i) }, logprobs: null, finish_reason: null }],
  }
}

/** Event `i`'s `data:` value, serialised now (every contender pays for JSON.stringify alike). */
export function chunkData(i: number): string {
  return JSON.stringify(chatCompletionChunk(i))
}

/** Event `i` as a resumable server frames it: `id:` and one `data:` line. */
export function chunkFrame(i: number): string {
  return `id: ${i}\ndata: ${chunkData(i)}\n\n`
}
