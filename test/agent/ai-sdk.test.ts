import { generateText, stepCountIs } from "ai";
import { MockLanguageModelV4 } from "ai/test";
import { expect, test } from "vitest";
import { toAiSdkTools } from "../../src/adapters/ai-sdk.ts";
import { makeTools } from "../../src/agent-tools/index.ts";
import { useSandbox } from "./sandbox.ts";

const fixture = useSandbox();

const usage = {
  inputTokens: { total: 10, noCache: 10, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: 5, text: 5, reasoning: undefined },
};
let callId = 0;
function callTools(...calls: [string, object][]) {
  return {
    content: calls.map(([toolName, input]) => ({
      type: "tool-call" as const,
      toolCallId: `call_${++callId}`,
      toolName,
      input: JSON.stringify(input),
    })),
    finishReason: { unified: "tool-calls" as const, raw: "tool_use" },
    usage,
    warnings: [],
  };
}

test("generateText with the AI SDK's mock model runs real tool calls in a real sandbox", async () => {
  const { client } = fixture;
  const script = "/home/user/hello.sh";
  const model = new MockLanguageModelV4({
    doGenerate: [
      callTools(["Write", { file_path: script, content: "echo hello from the ai sdk\n" }]),
      callTools(["Bash", { command: `bash ${script}` }]),
      callTools(
        ["Write", { file_path: script, content: "echo overwritten\n" }],
        ["Bash", { cmd: "ls" }],
      ),
      {
        content: [{ type: "text", text: "Ran it." }],
        finishReason: { unified: "stop", raw: "end_turn" },
        usage,
        warnings: [],
      },
    ],
  });

  const result = await generateText({
    model,
    tools: toAiSdkTools(makeTools(client)),
    stopWhen: stepCountIs(6),
    prompt: "Write a script that says hello and run it",
  });

  expect(result.text).toBe("Ran it.");
  expect(result.steps[0]?.toolResults[0]?.output).toEqual({
    message: "ok",
    bytes_written: 27,
    file_path: script,
  });
  expect(result.steps[1]?.toolResults[0]?.output).toEqual({
    output: "hello from the ai sdk\n",
    exit_code: 0,
    killed: false,
    truncated: false,
    shell_id: "",
  });

  // The model offered JSON Schemas with no additional properties.
  const offered = model.doGenerateCalls[0]?.tools?.find((tool) => tool.name === "Bash");
  expect(offered).toMatchObject({ type: "function", inputSchema: { additionalProperties: false } });

  // Failures went back to the model as readable tool errors, not as a thrown generateText.
  const lastPrompt = JSON.stringify(model.doGenerateCalls[3]?.prompt);
  expect(lastPrompt).toMatch(/error-text/);
  expect(lastPrompt).toMatch(/Error not_read \(409\).*What to do: Read the file/);
  expect(lastPrompt).toMatch(/command: required field is missing; cmd: unknown field/);
  const { content } = (await client.read(script)) as { content: string };
  expect(content).toContain("hello from the ai sdk");
});
