/**
 * A local stand-in for the Anthropic Messages API, the one external service the tests may not
 * call: an HTTP server on 127.0.0.1 (port 0) that answers `POST /v1/messages` with scripted
 * turns in the real wire format (content blocks, stop reasons, usage, error bodies). It checks
 * what the real API checks (headers, required fields, every tool_use answered by a tool_result
 * in the next message) and lets a turn assert on the request it receives.
 */
import { once } from "node:events";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** A content block the scripted model answers with. */
export type ReplayBlock =
  | { type: "text"; text: string }
  | { type: "tool_use"; id: string; name: string; input: Record<string, unknown> };

/** A request the double received: the parsed JSON body. */
export interface MessagesRequest {
  model: string;
  max_tokens: number;
  system?: string;
  tools?: { name: string; description: string; input_schema: Record<string, unknown> }[];
  messages: { role: "user" | "assistant"; content: string | RequestBlock[] }[];
}

/** A content block of a request's message (text, tool_use, tool_result, image). */
export interface RequestBlock {
  type: string;
  id?: string;
  name?: string;
  input?: unknown;
  text?: string;
  tool_use_id?: string;
  content?: unknown;
  is_error?: boolean;
}

/** One scripted turn: an answer, or an error answer, after optional checks on the request. */
export interface ReplayTurn {
  /** Throws (e.g. a failed `expect`) if the request is not what this turn expects. */
  check?: (request: MessagesRequest) => void;
  /** The answer's content. */
  content?: ReplayBlock[];
  /** @default "tool_use" when the content has a tool_use block, else "end_turn" */
  stopReason?: string;
  /** An error answer instead: `{ type: "error", error: { type, message } }` with this status. */
  error?: { status: number; type: string; message: string; retryAfter?: number };
}

/** A running double. */
export interface AnthropicReplay {
  /** The base URL to pass as `baseUrl` / ANTHROPIC_BASE_URL. */
  readonly url: string;
  /** Every request received, in order. */
  readonly requests: MessagesRequest[];
  /** Problems found: failed checks, protocol violations, running out of turns. Expect `[]`. */
  readonly failures: string[];
  /** The number of scripted turns not yet played. */
  remaining(): number;
  close(): Promise<void>;
}

let nextId = 0;
/** A `tool_use` block with a fresh id. */
export function toolUse(name: string, input: Record<string, unknown>): ReplayBlock {
  return { type: "tool_use", id: `toolu_replay_${++nextId}`, name, input };
}
/** A `text` block. */
export function text(value: string): ReplayBlock {
  return { type: "text", text: value };
}

/** The `tool_result` blocks of the last message of a request (the answers to the last turn). */
export function lastToolResults(request: MessagesRequest): RequestBlock[] {
  const content = request.messages.at(-1)?.content;
  return Array.isArray(content) ? content.filter((block) => block.type === "tool_result") : [];
}

/** Starts the double with a script of turns, played in order. */
export async function startAnthropicReplay(
  turns: ReplayTurn[],
  apiKey = "sk-ant-test",
): Promise<AnthropicReplay> {
  const script = [...turns];
  const requests: MessagesRequest[] = [];
  const failures: string[] = [];
  const fail = (res: ServerResponse, status: number, type: string, message: string) => {
    failures.push(message);
    sendError(res, status, type, message);
  };
  const server = createServer(async (req, res) => {
    if (req.method !== "POST" || req.url !== "/v1/messages") {
      return fail(res, 404, "not_found_error", `No route ${req.method} ${req.url}`);
    }
    if (req.headers["x-api-key"] !== apiKey) {
      return fail(res, 401, "authentication_error", "invalid x-api-key");
    }
    if (req.headers["anthropic-version"] !== "2023-06-01") {
      return fail(res, 400, "invalid_request_error", "anthropic-version header missing or wrong");
    }
    const body = JSON.parse(await readBody(req)) as MessagesRequest;
    requests.push(body);
    const problem = validate(body);
    if (problem) return fail(res, 400, "invalid_request_error", problem);
    const turn = script.shift();
    if (!turn) return fail(res, 500, "api_error", "the replay script has no turn left");
    try {
      turn.check?.(body);
    } catch (error) {
      return fail(res, 400, "invalid_request_error", `replay check failed: ${String(error)}`);
    }
    if (turn.error) {
      const { status, type, message, retryAfter } = turn.error;
      return sendError(res, status, type, message, retryAfter);
    }
    const content = turn.content ?? [];
    const stop =
      turn.stopReason ?? (content.some((b) => b.type === "tool_use") ? "tool_use" : "end_turn");
    res.writeHead(200, {
      "content-type": "application/json",
      "request-id": `req_${requests.length}`,
    });
    res.end(
      JSON.stringify({
        id: `msg_replay_${requests.length}`,
        type: "message",
        role: "assistant",
        model: body.model,
        content,
        stop_reason: stop,
        stop_sequence: null,
        usage: { input_tokens: 100, output_tokens: 20 },
      }),
    );
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    failures,
    remaining: () => script.length,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

// What the real API rejects: missing fields, and a tool_use not answered in the next message.
function validate(body: MessagesRequest): string | undefined {
  if (typeof body.model !== "string" || typeof body.max_tokens !== "number") {
    return "model and max_tokens are required";
  }
  if (!Array.isArray(body.messages) || body.messages[0]?.role !== "user") {
    return "messages must start with a user message";
  }
  for (const [index, message] of body.messages.entries()) {
    if (message.role !== "assistant" || !Array.isArray(message.content)) continue;
    const ids = message.content.filter((b) => b.type === "tool_use").map((b) => b.id);
    const next = body.messages[index + 1]?.content;
    const answered = new Set(Array.isArray(next) ? next.map((b) => b.tool_use_id) : []);
    const missing = ids.filter((id) => !answered.has(id));
    if (missing.length > 0) {
      return `messages.${index + 1}: tool_use ids were found without tool_result blocks immediately after: ${missing.join(", ")}`;
    }
  }
  return undefined;
}

function sendError(
  res: ServerResponse,
  status: number,
  type: string,
  message: string,
  retryAfter?: number,
) {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (retryAfter !== undefined) headers["retry-after"] = String(retryAfter);
  res.writeHead(status, headers);
  res.end(JSON.stringify({ type: "error", error: { type, message } }));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
