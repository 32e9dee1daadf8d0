import {
  type AnthropicToolUseBlock,
  toAnthropicToolResult,
  toAnthropicTools,
} from "../adapters/anthropic.ts";
import { type CallableTool, runTool, type ToolOutcome } from "../agent-tools/run.ts";
import { makeTools } from "../agent-tools/tools.ts";
import { createDoneTool } from "./done.ts";
import { type AgentMessage, type ContentBlock, createMessage, type Usage } from "./messages-api.ts";
import {
  type AgentEvent,
  type AgentOptions,
  type AgentResult,
  type AgentStopReason,
  DEFAULT_MODEL,
  DEFAULT_SYSTEM_PROMPT,
} from "./options.ts";

const REMIND_DONE =
  "You have not called the done tool. Continue the task; call done when it is complete.";

/**
 * Runs a task with Claude and the sandbox tools, yielding what happens as it happens: model
 * turns, text, tool calls and results, and finally `done` with the result. All tool calls of a
 * turn run concurrently; their results go back in the order of the calls. A failed tool call
 * goes back to the model as an `is_error` result it can act on (a 409 `not_read` leads it to
 * Read, then Write). Breaking out of the loop stops the run and aborts the calls in flight.
 *
 * @param task What the agent should do.
 * @param options The client, the API key and the rest.
 *
 * @example
 * ```ts
 * for await (const event of streamAgent("Write and run hello.py", { client, apiKey })) {
 *   if (event.type === "tool_call") console.log(event.name, event.input);
 * }
 * ```
 */
export async function* streamAgent(
  task: string,
  options: AgentOptions,
): AsyncGenerator<AgentEvent, AgentResult, undefined> {
  // Stopping early (break, return, an error) must also stop the model call and running tools.
  const controller = new AbortController();
  const forward = () => controller.abort(options.signal?.reason);
  if (options.signal?.aborted) forward();
  else options.signal?.addEventListener("abort", forward, { once: true });
  try {
    return yield* runLoop(task, options, controller.signal);
  } finally {
    options.signal?.removeEventListener("abort", forward);
    controller.abort(new Error("The agent run was stopped"));
  }
}

async function* runLoop(
  task: string,
  options: AgentOptions,
  signal: AbortSignal,
): AsyncGenerator<AgentEvent, AgentResult, undefined> {
  const done = createDoneTool();
  const tools: Record<string, CallableTool> = {
    ...makeTools(options.client),
    ...options.tools,
    done: done.tool,
  };
  const api = {
    apiKey: options.apiKey,
    baseUrl: options.baseUrl ?? "https://api.anthropic.com",
    fetch: options.fetch ?? ((request: Request) => globalThis.fetch(request)),
    maxRetries: options.maxRetries ?? 2,
    signal,
  };
  const request = {
    model: options.model ?? DEFAULT_MODEL,
    max_tokens: options.maxTokens ?? 8192,
    system: options.system ?? DEFAULT_SYSTEM_PROMPT,
    tools: toAnthropicTools(tools),
  };
  const maxTurns = options.maxTurns ?? 50;
  const messages = appendUserText([...(options.history ?? [])], task);
  const usage: Usage = { input_tokens: 0, output_tokens: 0 };
  let text = "";
  let turns = 0;
  let stopReason: AgentStopReason = "max_turns";

  while (turns < maxTurns) {
    signal.throwIfAborted();
    turns++;
    yield { type: "turn", turn: turns };
    const response = await createMessage({ ...request, messages }, api);
    usage.input_tokens += response.usage.input_tokens;
    usage.output_tokens += response.usage.output_tokens;
    messages.push({ role: "assistant", content: response.content });

    const calls: AnthropicToolUseBlock[] = [];
    for (const block of response.content) {
      if (block.type === "text" && typeof block.text === "string" && block.text.trim() !== "") {
        text = block.text;
        yield { type: "text", text: block.text };
      } else if (block.type === "tool_use") {
        const call = block as AnthropicToolUseBlock;
        calls.push(call);
        yield { type: "tool_call", id: call.id, name: call.name, input: call.input };
      }
    }

    if (calls.length === 0) {
      if (options.requireDone && turns < maxTurns) {
        messages.push({ role: "user", content: REMIND_DONE });
        continue;
      }
      stopReason = (response.stop_reason ?? "end_turn") as AgentStopReason;
      break;
    }

    // Start every call at once; report them in order, each as soon as it and those before it end.
    const running = calls.map((call) => runTool(tools, call.name, call.input, { signal }));
    // On abort every call rejects, but only the one awaited below has a handler.
    for (const call of running) call.catch(() => {});
    const results: ContentBlock[] = [];
    for (const [index, call] of calls.entries()) {
      const outcome: ToolOutcome = await running[index]!;
      results.push(toAnthropicToolResult(call.id, outcome));
      yield outcome.ok
        ? {
            type: "tool_result",
            id: call.id,
            name: call.name,
            isError: false,
            output: outcome.output,
          }
        : { type: "tool_result", id: call.id, name: call.name, isError: true, error: outcome.text };
    }
    messages.push({ role: "user", content: results });
    if (done.message !== undefined) {
      text = done.message;
      stopReason = "done";
      break;
    }
  }

  const result: AgentResult = { text, stopReason, turns, usage, messages };
  yield { type: "done", result };
  return result;
}

/**
 * Runs a task to completion (see `streamAgent`) and resolves to its result: the `done` message
 * or the last text, why it stopped, the turns and tokens used, and the conversation.
 *
 * @example
 * ```ts
 * const { text } = await runAgent("Count the lines of code in /home/user", {
 *   client, apiKey: process.env.ANTHROPIC_API_KEY!, requireDone: true,
 * });
 * ```
 */
export async function runAgent(task: string, options: AgentOptions): Promise<AgentResult> {
  const events = streamAgent(task, options);
  for (;;) {
    const next = await events.next();
    if (next.done) return next.value;
  }
}

// A conversation that ended on tool results continues in that same user message: the API wants
// user and assistant turns to alternate.
function appendUserText(messages: AgentMessage[], task: string): AgentMessage[] {
  const last = messages.at(-1);
  if (last?.role === "user") {
    const content =
      typeof last.content === "string" ? [{ type: "text", text: last.content }] : last.content;
    messages[messages.length - 1] = {
      role: "user",
      content: [...content, { type: "text", text: task }],
    };
  } else {
    messages.push({ role: "user", content: task });
  }
  return messages;
}
