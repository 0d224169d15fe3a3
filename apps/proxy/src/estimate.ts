// Token estimates for when an upstream reports no usage (an aborted or truncated stream, a server
// that ignores `include_usage`). An estimate is always marked as one where it is reported.
import type { Message } from './request'

// About four characters per token for English (OpenAI's rule of thumb); scripts without spaces
// (CJK) and emoji run close to one token per character or more, so each counts as one.
const ASCII_CHARS_PER_TOKEN = 4
// Per-message framing (role and separators), as OpenAI's cookbook counts it.
const TOKENS_PER_MESSAGE = 4

/** Estimated tokens in `text`. */
export function estimateTokens(text: string): number {
  const estimate = createTokenEstimate()
  estimate.add(text)
  return estimate.tokens
}

/** A running estimate over text that arrives in pieces (no rounding per piece). */
export function createTokenEstimate() {
  let ascii = 0
  let other = 0
  return {
    add(text: string) {
      // Per code point, by index: a `for…of` over the string allocates a string per character,
      // and this runs on every token.
      for (let i = 0; i < text.length; i++) {
        const code = text.charCodeAt(i)
        if (code < 0x80) ascii += 1
        else {
          other += 1
          // A surrogate pair is one code point.
          if (code >= 0xd800 && code < 0xdc00 && isLowSurrogate(text.charCodeAt(i + 1))) i += 1
        }
      }
    },
    get tokens() {
      return Math.ceil(ascii / ASCII_CHARS_PER_TOKEN) + other
    },
  }
}

const isLowSurrogate = (code: number) => code >= 0xdc00 && code < 0xe000

/** Estimated prompt tokens of a conversation. */
export function estimateInputTokens(messages: readonly Message[]): number {
  let total = 0
  for (const message of messages) {
    total += TOKENS_PER_MESSAGE + estimateTokens(message.content)
    if (message.role === 'assistant') {
      for (const call of message.toolCalls ?? []) {
        total += estimateTokens(call.name) + estimateTokens(call.arguments)
      }
    }
  }
  return total
}
