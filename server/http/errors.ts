/** Wire errors: `{ error: { code, message } }` with the status CONTRACT §3 and §8 give each code. */
import { ServerError } from "../errors.ts";

const statusByCode: Record<string, number> = {
  invalid_request: 400,
  invalid_path: 400,
  no_match: 400,
  ambiguous_match: 400,
  no_change: 400,
  unsupported_file: 400,
  missing_session: 400,
  unauthorized: 401,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  sandbox_exists: 409,
  session_conflict: 409,
  not_read: 409,
  stale_read: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  idempotency_mismatch: 422,
  range_not_satisfiable: 416,
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
  disk_full: 507,
};

/** The HTTP status of a wire error code (500 for codes the contract does not know). */
export function statusOf(code: string): number {
  return statusByCode[code] ?? 500;
}

/** A wire error as the HTTP layer sends it. */
export interface WireError {
  status: number;
  code: string;
  message: string;
  /** Seconds, for 429 and 503 answers. */
  retryAfter?: number;
}

/**
 * Maps anything thrown by a route or a tool to a wire error. `ServerError`s keep their code and
 * message; anything else is a 500 whose details go only to the log.
 */
export function toWireError(error: unknown, log: (line: string) => void): WireError {
  if (error instanceof ServerError) {
    const status = statusOf(error.code);
    if (status === 500) log(`internal error: ${error.code}: ${error.message}`);
    const wire: WireError = {
      status,
      code: status === 500 ? "internal" : error.code,
      message: status === 500 ? "the server failed; the failure was logged" : error.message,
    };
    if (status === 429 || status === 503) {
      // A rate limit knows when its next token comes; anything else is worth a retry soon.
      const { retryAfterSeconds } = error as { retryAfterSeconds?: number };
      wire.retryAfter = retryAfterSeconds ?? 1;
    }
    return wire;
  }
  log(`internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  return { status: 500, code: "internal", message: "the server failed; the failure was logged" };
}

/** A JSON error response. */
export function errorResponse(wire: WireError, headers?: Record<string, string>): Response {
  const all: Record<string, string> = {
    "content-type": "application/json; charset=utf-8",
    ...headers,
  };
  if (wire.retryAfter !== undefined) all["retry-after"] = String(wire.retryAfter);
  return new Response(JSON.stringify({ error: { code: wire.code, message: wire.message } }), {
    status: wire.status,
    headers: all,
  });
}
