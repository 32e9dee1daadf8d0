/**
 * The Lumina tools for the OpenAI API: Chat Completions `tools` and Responses API function
 * tools, and helpers that answer the model's calls. Works with the `openai` package or a plain
 * `fetch`; imports neither.
 *
 * @module
 */
import { type CallableTool, outputText, runTool, type ToolOutcome } from "../agent-tools/run.ts";
import type { ToolExecuteOptions } from "../agent-tools/tools.ts";

type Tools = Readonly<Record<string, CallableTool>>;

/** A Chat Completions function tool. */
export interface OpenAIChatTool {
  type: "function";
  function: { name: string; description: string; parameters: CallableTool["jsonSchema"] };
}

/** A Chat Completions tool call of an assistant message. */
export interface OpenAIChatToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

/** The `tool` message that answers a Chat Completions tool call. */
export interface OpenAIChatToolMessage {
  role: "tool";
  tool_call_id: string;
  content: string;
}

/** A Responses API function tool. */
export interface OpenAIResponsesTool {
  type: "function";
  name: string;
  description: string;
  parameters: CallableTool["jsonSchema"];
  /** Always `false`: the schemas have optional fields, which strict mode does not allow. */
  strict: false;
}

/** A Responses API `function_call` output item. */
export interface OpenAIFunctionCall {
  type: "function_call";
  call_id: string;
  name: string;
  arguments: string;
}

/** The `function_call_output` input item that answers a Responses API function call. */
export interface OpenAIFunctionCallOutput {
  type: "function_call_output";
  call_id: string;
  output: string;
}

/**
 * Converts tools to Chat Completions `tools`.
 *
 * @example
 * ```ts
 * const completion = await openai.chat.completions.create({ model, messages,
 *   tools: toOpenAIChatTools(tools) });
 * const calls = completion.choices[0].message.tool_calls ?? [];
 * messages.push(completion.choices[0].message,
 *   ...(await Promise.all(calls.map((call) => runOpenAIChatToolCall(tools, call)))));
 * ```
 */
export function toOpenAIChatTools(tools: Tools): OpenAIChatTool[] {
  return Object.values(tools).map(({ name, description, jsonSchema }) => ({
    type: "function",
    function: { name, description, parameters: jsonSchema },
  }));
}

/** Converts tools to Responses API function tools. */
export function toOpenAIResponsesTools(tools: Tools): OpenAIResponsesTool[] {
  return Object.values(tools).map(({ name, description, jsonSchema }) => ({
    type: "function",
    name,
    description,
    parameters: jsonSchema,
    strict: false,
  }));
}

/**
 * Runs a Chat Completions tool call and answers it with a `tool` message. A failure (arguments
 * that are not JSON, invalid input, a `ToolError`) becomes a message whose text starts with
 * `Error <code>` and says what to do. Rejects only on abort.
 */
export async function runOpenAIChatToolCall(
  tools: Tools,
  call: OpenAIChatToolCall,
  options: ToolExecuteOptions = {},
): Promise<OpenAIChatToolMessage> {
  const outcome = await runWithArguments(
    tools,
    call.function.name,
    call.function.arguments,
    options,
  );
  return { role: "tool", tool_call_id: call.id, content: outcomeText(outcome) };
}

/** Runs a Responses API function call and answers it with a `function_call_output` item. */
export async function runOpenAIFunctionCall(
  tools: Tools,
  call: OpenAIFunctionCall,
  options: ToolExecuteOptions = {},
): Promise<OpenAIFunctionCallOutput> {
  const outcome = await runWithArguments(tools, call.name, call.arguments, options);
  return { type: "function_call_output", call_id: call.call_id, output: outcomeText(outcome) };
}

function runWithArguments(
  tools: Tools,
  name: string,
  json: string,
  options: ToolExecuteOptions,
): Promise<ToolOutcome> {
  let input: unknown;
  try {
    input = json.trim() === "" ? {} : JSON.parse(json);
  } catch {
    const text = `Error invalid_input: the arguments of ${name} are not valid JSON.\nWhat to do: Send the arguments as one JSON object.`;
    return Promise.resolve({ ok: false, error: new SyntaxError(text), text });
  }
  return runTool(tools, name, input, options);
}

function outcomeText(outcome: ToolOutcome): string {
  return outcome.ok ? outputText(outcome.output) : outcome.text;
}
