import { beforeAll, describe, expect, test } from "vitest";
import { runAnthropicToolUses, toAnthropicTools } from "../../src/adapters/anthropic.ts";
import {
  runOpenAIChatToolCall,
  runOpenAIFunctionCall,
  toOpenAIChatTools,
  toOpenAIResponsesTools,
} from "../../src/adapters/openai.ts";
import { type LuminaTools, makeTools } from "../../src/agent-tools/index.ts";
import type { LuminaClient } from "../../src/index.ts";
import { useSandbox } from "./sandbox.ts";

// The smallest valid PNG (1x1, transparent).
const png =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";

const fixture = useSandbox();
let client: LuminaClient;
let tools: LuminaTools;
beforeAll(() => {
  client = fixture.client;
  tools = makeTools(client);
});

describe("the Anthropic adapter", () => {
  test("defines the tools with their JSON Schemas as input_schema", () => {
    const defined = toAnthropicTools(tools);
    expect(defined.map((tool) => tool.name)).toEqual(Object.keys(tools));
    expect(defined[5]).toEqual({
      name: "Bash",
      description: tools.Bash.description,
      input_schema: tools.Bash.jsonSchema,
    });
  });

  test("answers a message's tool_use blocks in order, with is_error for a failure and an image block for a PNG", async () => {
    await client.bash(`echo '${png}' | base64 -d > /home/user/dot.png`);
    const results = await runAnthropicToolUses(tools, [
      { type: "text", text: "Let me look." } as { type: string },
      { type: "tool_use", id: "t1", name: "Bash", input: { command: "echo one" } },
      { type: "tool_use", id: "t2", name: "Read", input: { file_path: "/home/user/none.txt" } },
      { type: "tool_use", id: "t3", name: "Read", input: { file_path: "/home/user/dot.png" } },
    ] as { type: string }[]);
    expect(results.map((result) => result.tool_use_id)).toEqual(["t1", "t2", "t3"]);
    expect(results[0]).toEqual({
      type: "tool_result",
      tool_use_id: "t1",
      content: JSON.stringify({
        output: "one\n",
        exit_code: 0,
        killed: false,
        truncated: false,
        shell_id: "",
      }),
    });
    expect(results[1]).toMatchObject({
      is_error: true,
      content: expect.stringMatching(/^Error not_found \(404\)/),
    });
    expect(results[2]?.content).toEqual([
      {
        type: "text",
        text: JSON.stringify({ type: "image", mime_type: "image/png", file_size: 70 }),
      },
      { type: "image", source: { type: "base64", media_type: "image/png", data: png } },
    ]);
  });
});

describe("the OpenAI adapter", () => {
  test("defines Chat Completions and Responses function tools", () => {
    expect(toOpenAIChatTools(tools)[0]).toEqual({
      type: "function",
      function: {
        name: "Read",
        description: tools.Read.description,
        parameters: tools.Read.jsonSchema,
      },
    });
    expect(toOpenAIResponsesTools(tools)[0]).toEqual({
      type: "function",
      name: "Read",
      description: tools.Read.description,
      parameters: tools.Read.jsonSchema,
      strict: false,
    });
  });

  test("answers a Chat Completions tool call with a tool message", async () => {
    const call = {
      id: "call_1",
      type: "function" as const,
      function: { name: "Bash", arguments: '{"command":"echo hi"}' },
    };
    expect(await runOpenAIChatToolCall(tools, call)).toEqual({
      role: "tool",
      tool_call_id: "call_1",
      content: JSON.stringify({
        output: "hi\n",
        exit_code: 0,
        killed: false,
        truncated: false,
        shell_id: "",
      }),
    });
  });

  test("answers a Responses function call whose arguments are not JSON with a readable error", async () => {
    const call = {
      type: "function_call" as const,
      call_id: "fc_1",
      name: "Bash",
      arguments: '{"command": "ls"',
    };
    const answer = await runOpenAIFunctionCall(tools, call);
    expect(answer).toMatchObject({ type: "function_call_output", call_id: "fc_1" });
    expect(answer.output).toMatch(/^Error invalid_input: the arguments of Bash are not valid JSON/);
  });
});
