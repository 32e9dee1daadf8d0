import { formatToolFailure } from "./errors.ts";
import type { ToolExecuteOptions } from "./tools.ts";

/** A JSON Schema of an object, as model APIs take for a tool's input. */
export type ObjectJsonSchema = {
  type: "object";
  properties?: Record<string, object>;
  required?: string[];
  additionalProperties?: boolean;
};

/**
 * Any tool the adapters, the MCP server and the agent can offer a model: the Lumina tools, and
 * tools of your own with the same shape.
 */
export interface CallableTool {
  /** The name the model calls the tool by. */
  readonly name: string;
  /** What the tool does, written for a model. */
  readonly description: string;
  /** The JSON Schema of the tool's input. */
  readonly jsonSchema: ObjectJsonSchema;
  /** Runs the tool on the model's (unvalidated) input. */
  execute(input: never, options?: ToolExecuteOptions): Promise<unknown>;
}

/** The outcome of one tool call: its output, or the error with the text the model reads. */
export type ToolOutcome =
  | { ok: true; output: unknown }
  | { ok: false; error: unknown; text: string };

/**
 * Runs a model's tool call and never rejects: an unknown tool, invalid input, a `ToolError` or
 * a network failure become `{ ok: false, text }`, where `text` tells the model what went wrong
 * and what to do. Only an abort of `options.signal` rejects, with the signal's reason.
 *
 * @param tools The tools the model may call, keyed by name.
 * @param name The name the model called.
 * @param input The model's input, validated by the tool.
 */
export async function runTool(
  tools: Readonly<Record<string, CallableTool>>,
  name: string,
  input: unknown,
  options: ToolExecuteOptions = {},
): Promise<ToolOutcome> {
  const tool = Object.hasOwn(tools, name) ? tools[name] : undefined;
  if (!tool) {
    const known = Object.keys(tools).join(", ");
    const error = new Error(`There is no tool named "${name}". The tools are: ${known}.`);
    return { ok: false, error, text: formatToolFailure(error) };
  }
  try {
    return { ok: true, output: await tool.execute(input as never, options) };
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    return { ok: false, error, text: formatToolFailure(error) };
  }
}

/** The text a model reads for a successful tool output: the JSON, or the string as is. */
export function outputText(output: unknown): string {
  return typeof output === "string" ? output : JSON.stringify(output);
}
