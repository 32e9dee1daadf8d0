import type Anthropic from "@anthropic-ai/sdk";
import type {
  ChatCompletionMessageFunctionToolCall,
  ChatCompletionMessageParam,
  ChatCompletionTool,
  ChatCompletionToolMessageParam,
} from "openai/resources/chat/completions";
import type {
  FunctionTool,
  ResponseCreateParams,
  ResponseFunctionToolCall,
  ResponseInputItem,
} from "openai/resources/responses/responses";
import { describe, expectTypeOf, test } from "vitest";
import {
  runAnthropicToolUse,
  runAnthropicToolUses,
  toAnthropicTools,
} from "../../src/adapters/anthropic.ts";
import {
  runOpenAIChatToolCall,
  runOpenAIFunctionCall,
  toOpenAIChatTools,
  toOpenAIResponsesTools,
} from "../../src/adapters/openai.ts";
import {
  type LuminaTools,
  type LuminaToolsClient,
  makeTools,
} from "../../src/agent-tools/index.ts";
import type { LuminaClient } from "../../src/index.ts";

declare const tools: LuminaTools;

describe("the tools", () => {
  test("take the SDK's real client", () => {
    expectTypeOf<LuminaClient>().toExtend<LuminaToolsClient>();
    expectTypeOf(makeTools).parameter(0).toEqualTypeOf<LuminaToolsClient>();
  });
});

describe("the Anthropic adapter fits @anthropic-ai/sdk's request and response types", () => {
  test("tools go into messages.create's params", () => {
    const params: Anthropic.Messages.MessageCreateParamsNonStreaming = {
      model: "claude-sonnet-4-5",
      max_tokens: 1024,
      messages: [{ role: "user", content: "hi" }],
      tools: toAnthropicTools(tools),
    };
    expectTypeOf(params.tools).not.toBeUndefined();
    expectTypeOf(toAnthropicTools(tools)).toExtend<Anthropic.Messages.Tool[]>();
  });

  test("a response's content blocks run, and the results form the next user message", async () => {
    const message = {} as Anthropic.Messages.Message;
    const results = await runAnthropicToolUses(tools, message.content);
    const next: Anthropic.Messages.MessageParam = { role: "user", content: results };
    expectTypeOf(results).toExtend<Anthropic.Messages.ToolResultBlockParam[]>();
    expectTypeOf(next).toExtend<Anthropic.Messages.MessageParam>();
    const block = {} as Anthropic.Messages.ToolUseBlock;
    expectTypeOf(
      await runAnthropicToolUse(tools, block),
    ).toExtend<Anthropic.Messages.ToolResultBlockParam>();
  });
});

describe("the OpenAI adapter fits the openai package's types", () => {
  test("Chat Completions: tools, and a tool call answered by a tool message", async () => {
    expectTypeOf(toOpenAIChatTools(tools)).toExtend<ChatCompletionTool[]>();
    const call = {} as ChatCompletionMessageFunctionToolCall;
    const answer = await runOpenAIChatToolCall(tools, call);
    expectTypeOf(answer).toExtend<ChatCompletionToolMessageParam>();
    expectTypeOf(answer).toExtend<ChatCompletionMessageParam>();
  });

  test("Responses API: function tools, and a function call answered by its output item", async () => {
    expectTypeOf(toOpenAIResponsesTools(tools)).toExtend<FunctionTool[]>();
    const params: ResponseCreateParams = {
      model: "gpt-5",
      input: "hi",
      tools: toOpenAIResponsesTools(tools),
    };
    expectTypeOf(params).toExtend<ResponseCreateParams>();
    const call = {} as ResponseFunctionToolCall;
    expectTypeOf(await runOpenAIFunctionCall(tools, call)).toExtend<ResponseInputItem>();
  });
});
