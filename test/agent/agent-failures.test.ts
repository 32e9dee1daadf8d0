import { describe, expect, test } from "vitest";
import { AnthropicApiError, runAgent, streamAgent } from "../../src/agent/index.ts";
import type { CallableTool } from "../../src/agent-tools/index.ts";
import { text, toolUse } from "../support/anthropic-replay.ts";
import { replayApiKey, useReplays, useSandbox } from "./sandbox.ts";

const apiKey = replayApiKey;
const fixture = useSandbox();
const replay = useReplays();

describe("model API failures and aborts", () => {
  test("breaking out of streamAgent aborts the tool calls still running", async () => {
    let sawAbort!: (reason: unknown) => void;
    const aborted = new Promise((resolve) => {
      sawAbort = resolve;
    });
    const tool = (name: string, waits: boolean): CallableTool => ({
      name,
      description: name,
      jsonSchema: { type: "object" },
      execute: (_input: never, options) =>
        new Promise((resolve) => {
          if (!waits) return resolve("quick");
          options?.signal?.addEventListener("abort", () => sawAbort(options.signal?.reason));
        }),
    });
    const model = await replay([{ content: [toolUse("quick", {}), toolUse("slow", {})] }]);
    const events = streamAgent("x", {
      client: fixture.client,
      apiKey,
      baseUrl: model.url,
      tools: { quick: tool("quick", false), slow: tool("slow", true) },
    });
    for await (const event of events) {
      if (event.type === "tool_result") break;
    }
    expect(await aborted).toMatchObject({ message: "The agent run was stopped" });
  });

  test("a user abort while parallel calls run rejects with the reason, every call included", async () => {
    const controller = new AbortController();
    let started = 0;
    // Like the real client: each call rejects with the signal's reason when aborted.
    const slow: CallableTool = {
      name: "slow",
      description: "slow",
      jsonSchema: { type: "object" },
      execute: (_input: never, options) =>
        new Promise((_resolve, reject) => {
          started += 1;
          if (started === 2) setTimeout(() => controller.abort(new Error("user stop")), 10);
          options?.signal?.addEventListener("abort", () => reject(options.signal?.reason));
        }),
    };
    const model = await replay([{ content: [toolUse("slow", {}), toolUse("slow", {})] }]);
    const run = runAgent("x", {
      client: fixture.client,
      apiKey,
      baseUrl: model.url,
      tools: { slow },
      signal: controller.signal,
    });
    await expect(run).rejects.toThrow("user stop");
    expect(started).toBe(2);
    // An unhandled rejection of the second call would fail this file's run.
    await new Promise((resolve) => setTimeout(resolve, 50));
  });

  test("an API error body rejects with AnthropicApiError carrying its status and type", async () => {
    const model = await replay([
      { error: { status: 400, type: "invalid_request_error", message: "max_tokens: too large" } },
    ]);
    const error = await runAgent("x", { client: fixture.client, apiKey, baseUrl: model.url }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AnthropicApiError);
    expect(error).toMatchObject({ status: 400, type: "invalid_request_error" });
    expect((error as Error).message).toContain("max_tokens: too large");
  });

  test("an overloaded (529) answer is retried after its Retry-After", async () => {
    const model = await replay([
      { error: { status: 529, type: "overloaded_error", message: "Overloaded", retryAfter: 0 } },
      { content: [text("Fine now.")] },
    ]);
    const result = await runAgent("x", { client: fixture.client, apiKey, baseUrl: model.url });
    expect(result.text).toBe("Fine now.");
    expect(model.requests).toHaveLength(2);
  });

  test("aborting the signal rejects the run with the signal's reason", async () => {
    const controller = new AbortController();
    const reason = new Error("user pressed Ctrl-C");
    const model = await replay([
      { check: () => controller.abort(reason), content: [text("late")] },
    ]);
    const run = runAgent("x", {
      client: fixture.client,
      apiKey,
      baseUrl: model.url,
      signal: controller.signal,
    });
    await expect(run).rejects.toBe(reason);
  });
});
