import type { AnthropicToolResultBlock } from "../adapters/anthropic.ts";
import { isNamed, LuminaError } from "../errors.ts";
import { delay } from "../internal/delay.ts";
import { parseRetryAfter } from "../retry.ts";

/** A content block of a Messages API message, as this agent sends and receives them. */
export type ContentBlock =
  | { type: "text"; text: string }
  | { type: "tool_use"; id: string; name: string; input: unknown }
  | AnthropicToolResultBlock
  | { type: string; [field: string]: unknown };

/** A message of the conversation. */
export interface AgentMessage {
  role: "user" | "assistant";
  content: string | ContentBlock[];
}

/** Token usage of a response, or summed over a run. */
export interface Usage {
  input_tokens: number;
  output_tokens: number;
}

/** The part of a Messages API response the agent reads. */
export interface MessageResponse {
  id: string;
  content: ContentBlock[];
  stop_reason: string | null;
  usage: Usage;
}

/**
 * An error answer of the Anthropic API (`{ type: "error", error: { type, message } }`), or a
 * non-JSON one (`type` is then `"http_error"`).
 */
export class AnthropicApiError extends LuminaError {
  override name = "AnthropicApiError" as const;
  /** The HTTP status. */
  readonly status: number;
  /** The API's error type, e.g. `invalid_request_error`, `overloaded_error`. */
  readonly type: string;
  /** The `request-id` header, for support requests. */
  readonly requestId: string | undefined;

  constructor(status: number, type: string, message: string, requestId?: string) {
    super(`Anthropic API ${status} ${type}: ${message}`);
    this.status = status;
    this.type = type;
    this.requestId = requestId;
  }
}

/** Whether `value` is an {@link AnthropicApiError}, also one from another realm. */
export function isAnthropicApiError(value: unknown): value is AnthropicApiError {
  return isNamed(value, "AnthropicApiError");
}

/** What `createMessage` needs to call the API. */
export interface MessagesApiOptions {
  apiKey: string;
  baseUrl: string;
  fetch: (request: Request) => Promise<Response>;
  maxRetries: number;
  signal?: AbortSignal | undefined;
}

const retryable = new Set([408, 429, 500, 502, 503, 504, 529]);

/** POSTs one request to `/v1/messages`, retrying overload and rate-limit answers. */
export async function createMessage(
  body: object,
  options: MessagesApiOptions,
): Promise<MessageResponse> {
  for (let attempt = 0; ; attempt++) {
    const request = new Request(`${options.baseUrl.replace(/\/+$/, "")}/v1/messages`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-api-key": options.apiKey,
        "anthropic-version": "2023-06-01",
      },
      body: JSON.stringify(body),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const response = await options.fetch(request);
    if (response.ok) return (await response.json()) as MessageResponse;
    const error = await toApiError(response);
    if (attempt >= options.maxRetries || !retryable.has(response.status)) throw error;
    // Honour the server's Retry-After (seconds or a date) when it sends one; else back off exponentially.
    const wait = parseRetryAfter(response.headers.get("retry-after")) ?? 500 * 2 ** attempt;
    await delay(Math.min(wait, 60_000), options.signal);
  }
}

async function toApiError(response: Response): Promise<AnthropicApiError> {
  const text = await response.text();
  const requestId = response.headers.get("request-id") ?? undefined;
  try {
    const { error } = JSON.parse(text) as { error: { type: string; message: string } };
    return new AnthropicApiError(response.status, error.type, error.message, requestId);
  } catch {
    return new AnthropicApiError(response.status, "http_error", text.slice(0, 200), requestId);
  }
}
