/**
 * The Lumina tools as Vercel AI SDK (`ai` v5+) tools: pass the result as `tools` to
 * `generateText`, `streamText` or an `Agent`.
 *
 * @module
 */
import { jsonSchema, type Tool, tool } from "ai";
import { formatToolFailure } from "../agent-tools/errors.ts";
import type { CallableTool } from "../agent-tools/run.ts";

/** The AI SDK's tool context type (not exported by `ai`). */
type Context = Record<string, unknown>;

/**
 * Converts Lumina tools to AI SDK tools. The input schema goes to the model as JSON Schema (an
 * AI SDK `jsonSchema()`, since the SDK cannot convert valibot itself); each tool's `execute`
 * validates the model's input with its valibot schema. A failed call (invalid input, a
 * `ToolError`) reaches the model as a tool error whose text names the code, the message and
 * what to do next; the original error is that error's `cause`.
 *
 * @param tools The tools, e.g. `makeTools(client)`.
 * @returns AI SDK tools under the same keys.
 *
 * @example
 * ```ts
 * const { text } = await generateText({
 *   model,
 *   tools: toAiSdkTools(makeTools(client)),
 *   stopWhen: stepCountIs(20),
 *   prompt: "Create /home/user/hello.py and run it",
 * });
 * ```
 */
export function toAiSdkTools<Tools extends Record<string, CallableTool>>(
  tools: Tools,
): { [K in keyof Tools]: Tool<unknown, unknown, Context> } {
  const converted: Record<string, Tool<unknown, unknown, Context>> = {};
  for (const [key, luminaTool] of Object.entries(tools)) {
    converted[key] = toAiSdkTool(luminaTool);
  }
  return converted as { [K in keyof Tools]: Tool<unknown, unknown, Context> };
}

/** Converts one Lumina tool to an AI SDK tool (see `toAiSdkTools`). */
export function toAiSdkTool(luminaTool: CallableTool): Tool<unknown, unknown, Context> {
  return tool<unknown, unknown, Context>({
    description: luminaTool.description,
    inputSchema: jsonSchema<unknown>(luminaTool.jsonSchema),
    execute: async (input, { abortSignal }) => {
      try {
        return await luminaTool.execute(input as never, abortSignal ? { signal: abortSignal } : {});
      } catch (error) {
        if (abortSignal?.aborted) throw error;
        throw new Error(formatToolFailure(error), { cause: error });
      }
    },
  });
}
