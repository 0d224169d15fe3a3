// What a generation is asked to do, in one shape for every upstream, and the native endpoint's
// request body that produces it.
import { z } from 'zod'
import { ProxyError } from './errors'

/** A tool call the assistant made earlier in the conversation (or makes now). */
export interface ToolCall {
  readonly id: string
  readonly name: string
  /** The arguments as JSON text, exactly as the model wrote them (a JSON object). */
  readonly arguments: string
}

/**
 * Reasoning an earlier assistant turn carried, signed by the model that wrote it (Anthropic's
 * thinking blocks, in their own shape): only that vendor's upstream can use it; the others skip it.
 */
export type SignedReasoning =
  | { readonly type: 'thinking'; readonly thinking: string; readonly signature: string }
  | { readonly type: 'redacted_thinking'; readonly data: string }

/** One conversation turn. */
export type Message =
  | { readonly role: 'system'; readonly content: string }
  | { readonly role: 'user'; readonly content: string }
  | {
      readonly role: 'assistant'
      readonly content: string
      readonly toolCalls?: readonly ToolCall[] | undefined
      readonly reasoning?: readonly SignedReasoning[] | undefined
    }
  | { readonly role: 'tool'; readonly toolCallId: string; readonly content: string }

/** A tool the model may call; `parameters` is its JSON Schema. */
export interface Tool {
  readonly name: string
  readonly description?: string | undefined
  readonly parameters: Readonly<Record<string, unknown>>
}

/** A generation request, normalised: every upstream adapter translates from this. */
export interface GenerationRequest {
  readonly model: string
  readonly messages: readonly Message[]
  readonly tools?: readonly Tool[] | undefined
  readonly maxTokens?: number | undefined
  readonly temperature?: number | undefined
  /** Sampling seed; the simulated model's answer is a function of the messages and this. */
  readonly seed?: number | undefined
  readonly stop?: readonly string[] | undefined
  /** Ask for reasoning ("thinking") output where the upstream offers it. */
  readonly reasoning?: boolean | undefined
}

// Every upstream but OpenAI's takes arguments as an object, so they must be a JSON object here.
const toolCall = z
  .object({
    id: z.string().min(1),
    name: z.string().min(1),
    arguments: z.string().refine(isJsonObject, 'must be a JSON object, as text'),
  })
  .strict()

/** Whether `text` is a JSON object: tool-call arguments every upstream can take. */
export function isJsonObject(text: string): boolean {
  try {
    const value: unknown = JSON.parse(text)
    return typeof value === 'object' && value !== null && !Array.isArray(value)
  } catch {
    return false
  }
}

const message = z.discriminatedUnion('role', [
  z.object({ role: z.literal('system'), content: z.string() }).strict(),
  z.object({ role: z.literal('user'), content: z.string() }).strict(),
  z
    .object({
      role: z.literal('assistant'),
      content: z.string().default(''),
      toolCalls: z.array(toolCall).optional(),
    })
    .strict(),
  z
    .object({ role: z.literal('tool'), toolCallId: z.string().min(1), content: z.string() })
    .strict(),
])

/** The body of `POST /v1/streams`. Unknown fields are refused, so a typo never passes silently. */
const nativeBody = z
  .object({
    messages: z.array(message).min(1),
    model: z.string().min(1).optional(),
    tools: z
      .array(
        z
          .object({
            name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ and -, 1–64 long'),
            description: z.string().optional(),
            parameters: z.record(z.string(), z.unknown()).default({ type: 'object' }),
          })
          .strict(),
      )
      .optional(),
    maxTokens: z.number().int().positive().optional(),
    temperature: z.number().min(0).max(2).optional(),
    seed: z.number().int().optional(),
    stop: z.array(z.string().min(1)).max(4).optional(),
    reasoning: z.boolean().optional(),
  })
  .strict()

/** The native request body, before the default model is filled in. */
export type NativeRequestBody = z.infer<typeof nativeBody>

/** Validates a `POST /v1/streams` body; throws `invalid-request` naming every bad field. */
export function parseNativeRequest(body: unknown): NativeRequestBody {
  const parsed = nativeBody.safeParse(body)
  if (parsed.success) return parsed.data
  throw new ProxyError('invalid-request', describeIssues(parsed.error))
}

/** One line per problem, each with the path of the field: `messages[0].role: …`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const path = issue.path
        .map((part, index) =>
          typeof part === 'number' ? `[${part}]` : `${index === 0 ? '' : '.'}${String(part)}`,
        )
        .join('')
      return path === '' ? issue.message : `${path}: ${issue.message}`
    })
    .join('; ')
}
