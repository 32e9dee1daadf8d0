/**
 * Reading a request body safely: a size limit enforced while streaming (with or without
 * Content-Length), JSON content type only, and a strict parse: `JSON.parse` first (so the
 * body is known to be well-formed, and its size is already bounded), then a scan of the text
 * that refuses duplicate keys (which `JSON.parse` would silently collapse) and deep nesting.
 * Bodies must be UTF-8 and their strings well-formed Unicode (unicode.ts): nothing is replaced
 * with U+FFFD silently.
 */
import { ServerError } from "../errors.ts";
import { findLoneSurrogate, invalidUtf8Offset } from "./unicode.ts";

/** Deeper than this is refused: no tool body needs more than a few levels. */
const maxDepth = 32;

/** Reads the raw body, refusing it with 413 as soon as it passes `limit` bytes, and with 400 if not UTF-8. */
export async function readLimitedBody(request: Request, limit: number): Promise<string> {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > limit) throw tooLarge(limit);
  if (!request.body) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read().catch(() => {
      // The client hung up mid-body: a 400 (likely never seen), not a server failure.
      throw new ServerError("invalid_request", "the request body ended early; send it again");
    });
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => {});
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  const bytes = Buffer.concat(chunks, total);
  const bad = invalidUtf8Offset(bytes);
  if (bad !== -1) {
    throw invalid(
      `the body is not valid UTF-8: byte ${bad} (0x${bytes[bad]!.toString(16).padStart(2, "0")}) starts no valid character; send JSON encoded as UTF-8 (file content must be UTF-8 text)`,
    );
  }
  return bytes.toString("utf8");
}

function tooLarge(limit: number): ServerError {
  return new ServerError(
    "payload_too_large",
    `the request body is larger than ${limit} bytes; send less (e.g. write a big file in parts with bash)`,
  );
}

/**
 * Refuses a body whose content type is not JSON with 415 `unsupported_media_type` (an
 * addition to the contract's codes; the status says it all to any HTTP client).
 */
export function requireJsonContentType(request: Request): void {
  const type = request.headers.get("content-type") ?? "";
  const essence = type.split(";")[0]!.trim().toLowerCase();
  if (essence === "application/json" || /^application\/[a-z0-9.+-]*\+json$/.test(essence)) return;
  throw new ServerError(
    "unsupported_media_type",
    `send the body as JSON with 'Content-Type: application/json' (got ${type ? `'${type.slice(0, 80)}'` : "none"})`,
  );
}

/** Parses a JSON object body strictly: well-formed, no duplicate keys, at most `maxDepth` deep. */
export function parseStrictJsonObject(text: string): Record<string, unknown> {
  if (text.trim() === "") throw invalid("the body is empty; send a JSON object");
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw invalid(`the body is not valid JSON (${(error as Error).message.slice(0, 120)})`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw invalid("the body must be a JSON object");
  }
  scanStructure(text);
  const lone = findLoneSurrogate(value);
  if (lone) {
    throw invalid(
      `${lone.field}: the escape ${lone.escape} at character offset ${lone.offset} (UTF-16 code units) is half of a surrogate pair, not a character, and cannot be written as UTF-8; send valid Unicode text`,
    );
  }
  return value as Record<string, unknown>;
}

function invalid(message: string): ServerError {
  return new ServerError("invalid_request", message);
}

/** The index of the quote closing the string that opens at `start` (the JSON is already valid). */
function closingQuote(text: string, start: number): number {
  let from = start + 1;
  for (;;) {
    const quote = text.indexOf('"', from);
    let backslashes = 0;
    while (text[quote - 1 - backslashes] === "\\") backslashes++;
    if (backslashes % 2 === 0) return quote;
    from = quote + 1;
  }
}

/** Walks already-valid JSON text, tracking each object's keys and the nesting depth. */
function scanStructure(text: string): void {
  // One entry per open container: the key set for objects, null for arrays.
  const stack: (Set<string> | null)[] = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char === '"') {
      const end = closingQuote(text, i);
      const keys = stack.at(-1);
      const start = i;
      i = end;
      if (expectKey && keys) {
        const key = JSON.parse(text.slice(start, end + 1)) as string;
        if (keys.has(key)) throw invalid(`the body repeats the key "${key.slice(0, 64)}"`);
        keys.add(key);
        expectKey = false;
      }
    } else if (char === "{" || char === "[") {
      stack.push(char === "{" ? new Set() : null);
      if (stack.length > maxDepth)
        throw invalid(`the body is nested deeper than ${maxDepth} levels`);
      expectKey = char === "{";
    } else if (char === "}" || char === "]") {
      stack.pop();
    } else if (char === ",") {
      expectKey = stack.at(-1) instanceof Set;
    }
  }
}
