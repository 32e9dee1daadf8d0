import { beforeAll, describe, expect, test } from "vitest";
import { type AgentEvent, runAgent, streamAgent } from "../../src/agent/index.ts";
import type { CallableTool } from "../../src/agent-tools/index.ts";
import { createClient, type LuminaClient } from "../../src/index.ts";
import { lastToolResults, text, toolUse } from "../support/anthropic-replay.ts";
import type { TestServer } from "../support/server.ts";
import { replayApiKey, useReplays, useSandbox } from "./sandbox.ts";

const apiKey = replayApiKey;
const fixture = useSandbox();
let server: TestServer;
let client: LuminaClient;
const replay = useReplays();

beforeAll(() => {
  ({ server, client } = fixture);
});

const done = (message: string) => toolUse("done", { message });

describe("runAgent against the real server and a scripted model", () => {
  test("an image that Read returns reaches the model as an image block", async () => {
    const file_path = "/home/user/dot.png";
    // A 1×1 PNG.
    const png =
      "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";
    await client.bash(`echo ${png} | base64 -d > ${file_path}`);
    const model = await replay([
      { content: [toolUse("Read", { file_path })] },
      {
        check: (request) => {
          const [result] = lastToolResults(request);
          expect(result?.content).toEqual([
            {
              type: "text",
              text: JSON.stringify({ type: "image", mime_type: "image/png", file_size: 70 }),
            },
            { type: "image", source: { type: "base64", media_type: "image/png", data: png } },
          ]);
        },
        content: [done("A dot.")],
      },
    ]);
    const result = await runAgent("What is in dot.png?", { client, apiKey, baseUrl: model.url });
    expect(model.failures).toEqual([]);
    expect(result.text).toBe("A dot.");
  });

  test("recovers from a 409 not_read: the error reaches the model, which reads, then writes", async () => {
    const file_path = "/home/user/config.txt";
    await createClient({ baseUrl: server.url, token: server.token, sandbox: client.sandbox }).write(
      file_path,
      "old\n",
    );
    const model = await replay([
      {
        content: [
          text("I will update the file."),
          toolUse("Write", { file_path, content: "new\n" }),
        ],
      },
      {
        check: (request) => {
          const [result] = lastToolResults(request);
          expect(result).toMatchObject({ is_error: true });
          expect(result?.content).toMatch(
            /^Error not_read \(409\): .*\nWhat to do: Read the file/s,
          );
        },
        content: [toolUse("Read", { file_path })],
      },
      {
        check: (request) => expect(lastToolResults(request)[0]?.content).toContain("old"),
        content: [toolUse("Write", { file_path, content: "new\n" })],
      },
      {
        check: (request) => expect(lastToolResults(request)[0]).not.toHaveProperty("is_error"),
        content: [done("Updated config.txt.")],
      },
    ]);
    const result = await runAgent("Set config.txt to new", { client, apiKey, baseUrl: model.url });
    expect(model.failures).toEqual([]);
    expect(model.remaining()).toBe(0);
    expect(result).toMatchObject({ text: "Updated config.txt.", stopReason: "done", turns: 4 });
    expect(result.usage).toEqual({ input_tokens: 400, output_tokens: 80 });
    const { content } = (await client.read(file_path)) as { content: string };
    expect(content).toBe("   1\tnew\n");
  });

  test("sends the default model, the system prompt and the 8 tools plus done", async () => {
    const model = await replay([{ content: [text("Nothing to do.")] }]);
    const result = await runAgent("Say hi", { client, apiKey, baseUrl: model.url });
    const [request] = model.requests;
    expect(request?.model).toBe("claude-sonnet-4-5");
    expect(request?.system).toMatch(/\/home\/user/);
    expect(request?.tools?.map((tool) => tool.name)).toEqual([
      ...["Read", "Write", "Edit", "Glob", "Grep", "Bash", "BashOutput", "KillBash", "done"],
    ]);
    expect(request?.tools?.[0]?.input_schema).toMatchObject({
      type: "object",
      additionalProperties: false,
    });
    expect(result).toMatchObject({ text: "Nothing to do.", stopReason: "end_turn", turns: 1 });
  });

  test("runs a turn's tool calls concurrently and answers them in the order of the calls", async () => {
    let waiting = 0;
    let release!: () => void;
    const bothStarted = new Promise<void>((resolve) => {
      release = resolve;
    });
    // Each call waits for the other to start: run one at a time, the first would time out.
    const rendezvous: CallableTool = {
      name: "rendezvous",
      description: "Waits for its twin.",
      jsonSchema: { type: "object", properties: { n: { type: "number" } } },
      async execute(input: { n: number }) {
        if (++waiting === 2) release();
        const timeout = new Promise((_, reject) =>
          setTimeout(() => reject(new Error("alone")), 5000),
        );
        await Promise.race([bothStarted, timeout]);
        return `met ${input.n}`;
      },
    };
    const calls = [
      toolUse("rendezvous", { n: 1 }),
      toolUse("Bash", { command: "echo hi" }),
      toolUse("rendezvous", { n: 2 }),
    ];
    const model = await replay([
      { content: calls },
      {
        check: (request) => {
          const results = lastToolResults(request);
          expect(results.map((r) => r.tool_use_id)).toEqual(
            calls.map((c) => (c as { id: string }).id),
          );
          expect(results.map((r) => r.content)).toEqual([
            "met 1",
            JSON.stringify({
              output: "hi\n",
              exit_code: 0,
              killed: false,
              truncated: false,
              shell_id: "",
            }),
            "met 2",
          ]);
        },
        content: [done("Both met.")],
      },
    ]);
    const result = await runAgent("Meet", {
      client,
      apiKey,
      baseUrl: model.url,
      tools: { rendezvous },
    });
    expect(model.failures).toEqual([]);
    expect(result.stopReason).toBe("done");
  });

  test("answers invalid tool input from the model with an error naming the fields", async () => {
    const model = await replay([
      { content: [toolUse("Bash", { cmd: "ls" })] },
      {
        check: (request) => {
          const [result] = lastToolResults(request);
          expect(result?.is_error).toBe(true);
          expect(result?.content).toMatch(
            /invalid_input.*command: required field is missing; cmd: unknown field/,
          );
        },
        content: [done("Gave up.")],
      },
    ]);
    await runAgent("List files", { client, apiKey, baseUrl: model.url });
    expect(model.failures).toEqual([]);
  });

  test("with requireDone, a turn without tool calls gets a reminder instead of ending the run", async () => {
    const model = await replay([
      { content: [text("All set, I think.")] },
      {
        check: (request) => expect(request.messages.at(-1)?.content).toMatch(/done tool/),
        content: [done("Really done.")],
      },
    ]);
    const result = await runAgent("Do it", {
      client,
      apiKey,
      baseUrl: model.url,
      requireDone: true,
    });
    expect(model.failures).toEqual([]);
    expect(result).toMatchObject({ text: "Really done.", stopReason: "done", turns: 2 });
  });

  test("stops at the turn limit", async () => {
    const bash = { content: [toolUse("Bash", { command: "true" })] };
    const model = await replay([bash, bash, bash]);
    const result = await runAgent("Loop", { client, apiKey, baseUrl: model.url, maxTurns: 2 });
    expect(result).toMatchObject({ stopReason: "max_turns", turns: 2 });
    expect(model.remaining()).toBe(1);
  });

  test("continues a conversation from a previous run's messages", async () => {
    const model = await replay([
      { content: [done("First.")] },
      {
        check: (request) => {
          const last = request.messages.at(-1)?.content as { type: string; text?: string }[];
          expect(last.map((block) => block.type)).toEqual(["tool_result", "text"]);
          expect(last[1]?.text).toBe("And now?");
        },
        content: [text("Second.")],
      },
    ]);
    const first = await runAgent("Start", { client, apiKey, baseUrl: model.url });
    const second = await runAgent("And now?", {
      client,
      apiKey,
      baseUrl: model.url,
      history: first.messages,
    });
    expect(model.failures).toEqual([]);
    expect(second.text).toBe("Second.");
  });
});

describe("streamAgent", () => {
  test("yields turn, text, tool_call, tool_result and done events in order", async () => {
    const model = await replay([
      { content: [text("Running it."), toolUse("Bash", { command: "echo streamed" })] },
      { content: [done("Printed it.")] },
    ]);
    const events: AgentEvent[] = [];
    for await (const event of streamAgent("Echo", { client, apiKey, baseUrl: model.url }))
      events.push(event);
    expect(events.map((event) => event.type)).toEqual([
      ...["turn", "text", "tool_call", "tool_result", "turn", "tool_call", "tool_result", "done"],
    ]);
    expect(events[3]).toMatchObject({
      name: "Bash",
      isError: false,
      output: { output: "streamed\n" },
    });
    expect(events.at(-1)).toMatchObject({ type: "done", result: { text: "Printed it." } });
  });
});
