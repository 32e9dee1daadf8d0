/**
 * A demo coding agent: Claude, through the Anthropic Messages API over `fetch` (so it runs on
 * Node, Deno, Bun and Cloudflare Workers), driving a Lumina sandbox with the eight tools and a
 * `done` tool. `runAgent` runs a task to completion; `streamAgent` yields its events.
 *
 * @example
 * ```ts
 * import { createClient } from "lumina-sandbox";
 * import { runAgent } from "lumina-sandbox/agent";
 *
 * const client = createClient({ baseUrl, token, sandbox: "demo" });
 * const result = await runAgent("Write fizzbuzz.py and run it", { client, apiKey });
 * console.log(result.text);
 * ```
 *
 * @module
 */
export { runAgent, streamAgent } from "./loop.ts";
export {
  type AgentMessage,
  AnthropicApiError,
  type ContentBlock,
  isAnthropicApiError,
  type MessageResponse,
  type Usage,
} from "./messages-api.ts";
export {
  type AgentEvent,
  type AgentOptions,
  type AgentResult,
  type AgentStopReason,
  DEFAULT_MODEL,
  DEFAULT_SYSTEM_PROMPT,
} from "./options.ts";
