// The body of `POST /v1/chat/completions`, as the OpenAI API reference defines it, translated into
// the proxy's generation request. Fields the proxy cannot honour but that change nothing essential
// (top_p, penalties, user, metadata…) are accepted and dropped, as an SDK sends many of them; a
// field whose meaning would be lost silently (n > 1, image parts) is refused.
import { z } from 'zod'
import { ProxyError } from '../errors'
import { describeIssues, type GenerationRequest, isJsonObject, type Message } from '../request'

// Content is a string or an array of parts; only text parts have a meaning here (checked when
// translating, so the refusal names the part).
const content = z.union([
  z.string(),
  z.array(z.object({ type: z.string(), text: z.string().optional() })),
])

const toolCall = z.object({
  id: z.string().min(1),
  type: z.literal('function').default('function'),
  function: z.object({
    name: z.string().min(1),
    arguments: z.string().refine(isJsonObject, 'must be a JSON object, as text'),
  }),
})

const message = z.discriminatedUnion('role', [
  z.object({ role: z.enum(['system', 'developer']), content }),
  z.object({ role: z.literal('user'), content }),
  z.object({
    role: z.literal('assistant'),
    content: content.nullish(),
    tool_calls: z.array(toolCall).optional(),
  }),
  z.object({ role: z.literal('tool'), tool_call_id: z.string().min(1), content }),
])

const body = z.object({
  model: z.string().min(1).optional(),
  messages: z.array(message).min(1),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).nullish(),
  tools: z
    .array(
      z.object({
        type: z.literal('function'),
        function: z.object({
          name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ and -, 1–64 long'),
          description: z.string().optional(),
          parameters: z.record(z.string(), z.unknown()).optional(),
        }),
      }),
    )
    .optional(),
  tool_choice: z.unknown().optional(),
  max_tokens: z.number().int().positive().nullish(),
  max_completion_tokens: z.number().int().positive().nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  seed: z.number().int().nullish(),
  stop: z.union([z.string().min(1), z.array(z.string().min(1)).max(4)]).nullish(),
  n: z.literal(1, { error: 'only n: 1 is supported by this proxy' }).nullish(),
  reasoning_effort: z.string().nullish(),
})

/** A chat-completions request, translated. */
export interface OpenAIRequest {
  /** The generation; `model` is unset when the body names none (the proxy's default applies). */
  readonly generation: Omit<GenerationRequest, 'model'> & { readonly model?: string | undefined }
  readonly stream: boolean
  /** `stream_options.include_usage`: a usage chunk before `[DONE]`. */
  readonly includeUsage: boolean
}

/** Validates a chat-completions body; throws `invalid-request` naming every bad field. */
export function parseOpenAIRequest(json: unknown): OpenAIRequest {
  const parsed = body.safeParse(json)
  if (!parsed.success) throw new ProxyError('invalid-request', describeIssues(parsed.error))
  const request = parsed.data
  const offersTools = request.tools && request.tool_choice !== 'none'
  const maxTokens = request.max_completion_tokens ?? request.max_tokens ?? undefined
  return {
    generation: {
      model: request.model,
      messages: request.messages.map((item, index) => toMessage(item, `messages[${index}]`)),
      ...(offersTools && {
        tools: request.tools?.map(({ function: tool }) => ({
          name: tool.name,
          description: tool.description,
          parameters: tool.parameters ?? { type: 'object' },
        })),
      }),
      ...(maxTokens !== undefined && { maxTokens }),
      ...(request.temperature != null && { temperature: request.temperature }),
      ...(request.seed != null && { seed: request.seed }),
      ...(request.stop != null && {
        stop: typeof request.stop === 'string' ? [request.stop] : request.stop,
      }),
      ...(request.reasoning_effort != null && {
        reasoning: request.reasoning_effort !== 'none',
      }),
    },
    stream: request.stream === true,
    includeUsage: request.stream_options?.include_usage === true,
  }
}

function toMessage(item: z.infer<typeof message>, path: string): Message {
  const text = (value: z.infer<typeof content>) => textOf(value, `${path}.content`)
  switch (item.role) {
    case 'system':
    case 'developer':
      return { role: 'system', content: text(item.content) }
    case 'user':
      return { role: 'user', content: text(item.content) }
    case 'assistant':
      return {
        role: 'assistant',
        content: item.content == null ? '' : text(item.content),
        ...(item.tool_calls?.length && {
          toolCalls: item.tool_calls.map((call) => ({
            id: call.id,
            name: call.function.name,
            arguments: call.function.arguments,
          })),
        }),
      }
    case 'tool':
      return { role: 'tool', toolCallId: item.tool_call_id, content: text(item.content) }
  }
}

function textOf(value: z.infer<typeof content>, path: string): string {
  if (typeof value === 'string') return value
  return value
    .map((part, index) => {
      if (part.type === 'text' && part.text !== undefined) return part.text
      throw new ProxyError(
        'invalid-request',
        `${path}[${index}]: only text content parts are supported by this proxy, not ${part.type}`,
      )
    })
    .join('')
}
