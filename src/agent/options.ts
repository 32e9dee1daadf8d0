import type { LuminaToolsClient } from "../agent-tools/client.ts";
import type { CallableTool } from "../agent-tools/run.ts";
import type { AgentMessage, Usage } from "./messages-api.ts";

/**
 * The model the agent uses unless told otherwise: Claude Sonnet 4.5, through its alias, which
 * follows the newest snapshot.
 */
export const DEFAULT_MODEL = "claude-sonnet-4-5";

/** The system prompt the agent uses unless told otherwise. */
export const DEFAULT_SYSTEM_PROMPT = `You are a coding agent working in a Linux sandbox. Your home directory is /home/user; use absolute paths.
Use the tools to read, write and edit files, search, and run commands. Read a file before you write or edit it.
Run independent tool calls in parallel. When a tool returns an error, read it and fix the cause.
When the task is complete, call the done tool with a short summary of what you did.`;

/** The options of `runAgent` and `streamAgent`. */
export interface AgentOptions {
  /** The Lumina client whose sandbox the agent works in. */
  client: LuminaToolsClient;
  /** The Anthropic API key, sent as `x-api-key`. */
  apiKey: string;
  /**
   * The model id.
   * @default "claude-sonnet-4-5"
   */
  model?: string;
  /**
   * The API's base URL (a proxy, a gateway, a local double).
   * @default "https://api.anthropic.com"
   */
  baseUrl?: string;
  /**
   * The system prompt.
   * @default DEFAULT_SYSTEM_PROMPT
   */
  system?: string;
  /**
   * The most model turns (API calls) a run may take before it stops with `max_turns`.
   * @default 50
   */
  maxTurns?: number;
  /**
   * The `max_tokens` of each model call.
   * @default 8192
   */
  maxTokens?: number;
  /**
   * Whether the run ends only through the `done` tool: a turn that ends without tool calls gets
   * a reminder to call it, instead of ending the run.
   * @default false
   */
  requireDone?: boolean;
  /** Extra tools to offer besides the eight Lumina tools and `done`. */
  tools?: Readonly<Record<string, CallableTool>>;
  /** The conversation so far, e.g. the `messages` of a previous run's result. */
  history?: readonly AgentMessage[];
  /**
   * Retries of a model call answered 429, 5xx or 529 (overloaded).
   * @default 2
   */
  maxRetries?: number;
  /**
   * The fetch that calls the API (a Workers service binding, a test double).
   * @default globalThis.fetch
   */
  fetch?: (request: Request) => Promise<Response>;
  /** Aborts the run: the model call and running tools stop, the run rejects with the reason. */
  signal?: AbortSignal;
}

/** Why a run ended. */
export type AgentStopReason =
  | "done"
  | "end_turn"
  | "max_turns"
  | "max_tokens"
  | "stop_sequence"
  | "refusal";

/** The result of a run. */
export interface AgentResult {
  /** The `done` tool's message, or else the model's last text. */
  text: string;
  /** Why the run ended. */
  stopReason: AgentStopReason;
  /** The number of model calls made. */
  turns: number;
  /** The tokens used, summed over the run. */
  usage: Usage;
  /** The whole conversation, to pass as `history` to continue it. */
  messages: AgentMessage[];
}

/** An event of a run, as `streamAgent` yields them. */
export type AgentEvent =
  /** A model call starts (show a spinner). */
  | { type: "turn"; turn: number }
  /** The model said something. */
  | { type: "text"; text: string }
  /** The model called a tool. */
  | { type: "tool_call"; id: string; name: string; input: unknown }
  /** A tool call finished: `output` on success, `error` (the text the model reads) on failure. */
  | {
      type: "tool_result";
      id: string;
      name: string;
      isError: boolean;
      output?: unknown;
      error?: string;
    }
  /** The run ended. */
  | { type: "done"; result: AgentResult };
