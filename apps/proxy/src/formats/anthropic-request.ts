// The Anthropic Messages request (`POST /v1/messages`, `/v1/messages/count_tokens`), validated and
// translated into the proxy's normalised request. Fields the proxy cannot honour on every upstream
// (metadata, tool_choice, top_p, top_k, cache_control, …) are dropped, not refused: SDKs and
// agents such as Claude Code send them on every request. Content it cannot translate (images,
// documents, server tools) is refused with the field's path, never silently lost.
import { z } from 'zod'
import { ProxyError } from '../errors'
import { estimateInputTokens, estimateTokens } from '../estimate'
import {
  describeIssues,
  type GenerationRequest,
  type Message,
  type SignedReasoning,
  type ToolCall,
} from '../request'

const TRANSLATED_BLOCKS = 'text, tool_use, tool_result, thinking or redacted_thinking'

const text = z.object({ type: z.literal('text'), text: z.string() })

const block = z.discriminatedUnion(
  'type',
  [
    text,
    z.object({
      type: z.literal('tool_use'),
      id: z.string().min(1),
      name: z.string().min(1),
      input: z.record(z.string(), z.unknown()),
    }),
    z.object({
      type: z.literal('tool_result'),
      tool_use_id: z.string().min(1),
      content: z
        .union([
          z.string(),
          z.array(text, { error: 'tool results are translated as text blocks only' }),
        ])
        .optional(),
    }),
    // Signed reasoning of earlier turns, which only an Anthropic upstream reads (and, with thinking
    // on, requires back in a tool-use turn).
    z.object({ type: z.literal('thinking'), thinking: z.string(), signature: z.string() }),
    z.object({ type: z.literal('redacted_thinking'), data: z.string() }),
  ],
  { error: `a block of type ${TRANSLATED_BLOCKS} (this proxy does not translate the others)` },
)

const message = z.object({
  role: z.enum(['user', 'assistant']),
  // A string is one text block; as blocks, a refused block's error names its own path.
  content: z.preprocess(
    (content) => (typeof content === 'string' ? [{ type: 'text', text: content }] : content),
    z.array(block),
  ),
})

const tool = z.object({
  name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ and -, 1–64 long'),
  description: z.string().optional(),
  input_schema: z.record(z.string(), z.unknown(), {
    error: 'a JSON Schema object (server tools such as web_search are not translated)',
  }),
})

const countBody = z.object({
  model: z.string().min(1),
  messages: z.array(message).min(1),
  system: z.union([z.string(), z.array(text)]).optional(),
  tools: z.array(tool).optional(),
  thinking: z.object({ type: z.enum(['enabled', 'disabled', 'adaptive']) }).optional(),
})

const messagesBody = countBody.extend({
  max_tokens: z.number().int().positive(),
  stream: z.boolean().optional(),
  temperature: z.number().min(0).max(1).optional(),
  stop_sequences: z.array(z.string().min(1)).optional(),
})

/** A `POST /v1/messages` request, translated. */
export interface AnthropicRequest {
  readonly request: GenerationRequest
  /** The API's default is one JSON message; `stream: true` asks for events. */
  readonly stream: boolean
}

/** Validates and translates a Messages request; throws `invalid-request` naming every bad field. */
export function parseAnthropicRequest(body: unknown): AnthropicRequest {
  const parsed = messagesBody.safeParse(body)
  if (!parsed.success) throw new ProxyError('invalid-request', describeIssues(parsed.error))
  const { max_tokens, temperature, stop_sequences, stream } = parsed.data
  return {
    request: {
      ...translate(parsed.data),
      maxTokens: max_tokens,
      ...(temperature !== undefined && { temperature }),
      ...(stop_sequences !== undefined && { stop: stop_sequences }),
    },
    stream: stream === true,
  }
}

/**
 * The prompt tokens of a `count_tokens` request, estimated as the proxy estimates usage (the
 * upstreams have no common counting endpoint); tool definitions count as their JSON text.
 */
export function countAnthropicTokens(body: unknown): number {
  const parsed = countBody.safeParse(body)
  if (!parsed.success) throw new ProxyError('invalid-request', describeIssues(parsed.error))
  const { messages, tools } = translate(parsed.data)
  return estimateInputTokens(messages) + (tools ? estimateTokens(JSON.stringify(tools)) : 0)
}

function translate(body: z.infer<typeof countBody>) {
  const messages: Message[] = []
  const system = typeof body.system === 'string' ? body.system : joinText(body.system ?? [])
  if (system !== '') messages.push({ role: 'system', content: system })
  for (const turn of body.messages) {
    if (turn.role === 'user') messages.push(...userTurn(turn.content))
    else messages.push(assistantTurn(turn.content))
  }
  return {
    model: body.model,
    messages,
    ...(body.tools && {
      tools: body.tools.map(({ name, description, input_schema }) => ({
        name,
        description,
        parameters: input_schema,
      })),
    }),
    ...(body.thinking && { reasoning: body.thinking.type !== 'disabled' }),
  } satisfies GenerationRequest
}

type Block = z.infer<typeof block>

/** A user turn: each tool result its own `tool` message, text in order around them. */
function userTurn(blocks: readonly Block[]): Message[] {
  const out: Message[] = []
  let pending: string[] = []
  const flush = () => {
    if (pending.length > 0) out.push({ role: 'user', content: pending.join('\n\n') })
    pending = []
  }
  for (const item of blocks) {
    if (item.type === 'text') pending.push(item.text)
    else if (item.type === 'tool_result') {
      flush()
      const content = typeof item.content === 'string' ? item.content : joinText(item.content ?? [])
      out.push({ role: 'tool', toolCallId: item.tool_use_id, content })
    }
  }
  flush()
  return out
}

function assistantTurn(blocks: readonly Block[]): Message {
  const texts: string[] = []
  const toolCalls: ToolCall[] = []
  const reasoning: SignedReasoning[] = []
  for (const item of blocks) {
    if (item.type === 'text') texts.push(item.text)
    else if (item.type === 'tool_use') {
      toolCalls.push({ id: item.id, name: item.name, arguments: JSON.stringify(item.input) })
    } else if (item.type === 'redacted_thinking') reasoning.push(item)
    // Unsigned thinking came from another upstream through this proxy: nobody can check it.
    else if (item.type === 'thinking' && item.signature !== '') reasoning.push(item)
  }
  return {
    role: 'assistant',
    content: texts.join('\n\n'),
    ...(toolCalls.length > 0 && { toolCalls }),
    ...(reasoning.length > 0 && { reasoning }),
  }
}

const joinText = (blocks: ReadonlyArray<{ readonly text: string }>) =>
  blocks.map((item) => item.text).join('\n\n')
