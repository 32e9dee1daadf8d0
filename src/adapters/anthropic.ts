/**
 * The Lumina tools for the Anthropic Messages API: the `tools` array of a request, and helpers
 * that answer the model's `tool_use` blocks with `tool_result` blocks. Works with
 * `@anthropic-ai/sdk` or a plain `fetch`; imports neither.
 *
 * @module
 */
import { type CallableTool, outputText, runTool, type ToolOutcome } from "../agent-tools/run.ts";
import type { ToolExecuteOptions } from "../agent-tools/tools.ts";

/** A tool definition of the Messages API's `tools` array. */
export interface AnthropicTool {
  name: string;
  description: string;
  input_schema: CallableTool["jsonSchema"];
}

/** A `tool_use` content block of an assistant message. */
export interface AnthropicToolUseBlock {
  type: "tool_use";
  id: string;
  name: string;
  input: unknown;
}

/** The content a `tool_result` block carries: text, or text and an image. */
export type AnthropicToolResultContent =
  | string
  | (
      | { type: "text"; text: string }
      | {
          type: "image";
          source: {
            type: "base64";
            media_type: "image/jpeg" | "image/png" | "image/gif" | "image/webp";
            data: string;
          };
        }
    )[];

/** A `tool_result` content block of a user message. */
export interface AnthropicToolResultBlock {
  type: "tool_result";
  tool_use_id: string;
  content: AnthropicToolResultContent;
  is_error?: boolean;
}

/**
 * Converts tools to the Messages API's `tools` array.
 *
 * @example
 * ```ts
 * const tools = makeTools(client);
 * const message = await anthropic.messages.create({ model, max_tokens: 4096, messages,
 *   tools: toAnthropicTools(tools) });
 * const results = await runAnthropicToolUses(tools, message.content);
 * messages.push({ role: "assistant", content: message.content }, { role: "user", content: results });
 * ```
 */
export function toAnthropicTools(tools: Readonly<Record<string, CallableTool>>): AnthropicTool[] {
  return Object.values(tools).map((tool) => ({
    name: tool.name,
    description: tool.description,
    input_schema: tool.jsonSchema,
  }));
}

/**
 * Runs one `tool_use` block and answers it with a `tool_result` block. A failed call becomes a
 * result with `is_error: true` whose text names the error code and what to do; an image that
 * `Read` returns becomes an image block the model can see. Rejects only on abort.
 */
export async function runAnthropicToolUse(
  tools: Readonly<Record<string, CallableTool>>,
  block: AnthropicToolUseBlock,
  options: ToolExecuteOptions = {},
): Promise<AnthropicToolResultBlock> {
  return toAnthropicToolResult(block.id, await runTool(tools, block.name, block.input, options));
}

/**
 * The `tool_result` block answering the call `toolUseId` with a tool's outcome: a failure as
 * text with `is_error: true`, an output as its JSON text, and an image that `Read` returns as an
 * image block the model can see.
 */
export function toAnthropicToolResult(
  toolUseId: string,
  outcome: ToolOutcome,
): AnthropicToolResultBlock {
  if (!outcome.ok) {
    return { type: "tool_result", tool_use_id: toolUseId, content: outcome.text, is_error: true };
  }
  return { type: "tool_result", tool_use_id: toolUseId, content: resultContent(outcome.output) };
}

/**
 * Runs every `tool_use` block of an assistant message's content concurrently and resolves to
 * their `tool_result` blocks, in the order of the calls, ready to send as the next user message.
 */
export function runAnthropicToolUses(
  tools: Readonly<Record<string, CallableTool>>,
  content: readonly { type: string }[],
  options: ToolExecuteOptions = {},
): Promise<AnthropicToolResultBlock[]> {
  const calls = content.filter(
    (block): block is AnthropicToolUseBlock => block.type === "tool_use",
  );
  return Promise.all(calls.map((block) => runAnthropicToolUse(tools, block, options)));
}

function resultContent(output: unknown): AnthropicToolResultContent {
  const image = output as { type?: unknown; image?: unknown; mime_type?: unknown };
  if (image?.type === "image" && typeof image.image === "string") {
    const media_type = image.mime_type as "image/png";
    const { image: data, ...meta } = output as { image: string };
    return [
      { type: "text", text: JSON.stringify(meta) },
      { type: "image", source: { type: "base64", media_type, data } },
    ];
  }
  return outputText(output);
}
