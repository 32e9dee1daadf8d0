/**
 * Recording and replaying the answers of keyed calls (idempotency.ts): an answer is read to its
 * end once, kept whole up to `maxStoredAnswerBytes`, and above that only its size and digest.
 */
import { createHash } from "node:crypto";
import type { KeyedRequest, RecordedAnswer } from "../store/idempotency-records.ts";
import { errorResponse } from "./errors.ts";

/** The largest answer body kept whole; a larger one keeps only its size and SHA-256. */
export const maxStoredAnswerBytes = 1024 * 1024;

/** Whether two requests are the same call: method, path with query, and body digest. */
export function sameRequest(first: KeyedRequest, repeat: KeyedRequest): boolean {
  return (
    first.method === repeat.method &&
    first.path === repeat.path &&
    first.bodyDigest === repeat.bodyDigest
  );
}

/**
 * Reads an answer's body to its end (whatever its client does) into what is recorded, and with
 * `keepWhole` all of its bytes too. Leading whitespace is the keep-alive of a streamed answer,
 * not part of it, and is not recorded.
 */
export async function readAnswer(
  body: ReadableStream<Uint8Array> | null,
  head: { status: number; contentType: string | null },
  keepWhole = false,
): Promise<{ answer: RecordedAnswer; whole: Uint8Array<ArrayBuffer> | null }> {
  const hash = createHash("sha256");
  const kept: Uint8Array[] = [];
  const all: Uint8Array[] = [];
  let size = 0;
  let leading = true;
  if (body) {
    for await (let chunk of body) {
      if (keepWhole) all.push(chunk);
      if (leading) {
        let start = 0;
        while (start < chunk.length && (chunk[start] === 0x20 || chunk[start] === 0x0a)) start++;
        chunk = chunk.subarray(start);
        if (chunk.length === 0) continue;
        leading = false;
      }
      hash.update(chunk);
      size += chunk.length;
      if (size <= maxStoredAnswerBytes) kept.push(chunk);
    }
  }
  const answer = {
    ...head,
    body: size <= maxStoredAnswerBytes ? Buffer.concat(kept).toString("utf8") : null,
    bodySize: size,
    answerDigest: hash.digest("hex"),
  };
  return { answer, whole: all.length > 0 ? new Uint8Array(Buffer.concat(all)) : null };
}

/** A recorded JSON error answer, made by the server itself. */
export function errorAnswer(status: number, code: string, message: string): RecordedAnswer {
  const body = JSON.stringify({ error: { code, message } });
  return {
    status,
    contentType: "application/json; charset=utf-8",
    body,
    bodySize: Buffer.byteLength(body),
    answerDigest: createHash("sha256").update(body).digest("hex"),
  };
}

/** Statuses whose answers have no body. */
const bodiless = new Set([204, 205, 304]);

/** The recorded answer as a response, marked as a replay. */
export function replayResponse(answer: RecordedAnswer): Response {
  const replayed = { "idempotent-replayed": "true" };
  if (answer.body === null) return errorResponse(tooLargeError(answer), replayed);
  return new Response(bodiless.has(answer.status) || !answer.body ? null : answer.body, {
    status: answer.status,
    headers: {
      ...(answer.contentType ? { "content-type": answer.contentType } : {}),
      "cache-control": "no-store",
      ...replayed,
    },
  });
}

/** The body of a replay sent behind 200 keep-alive headers (the status is then in the body). */
export function streamedReplayText(answer: RecordedAnswer): string {
  if (answer.body !== null && answer.body !== "") return answer.body;
  const error = tooLargeError(answer);
  return JSON.stringify({ error: { code: error.code, message: error.message, status: 409 } });
}

/** Why a call's answer cannot be replayed: it ran once, but its body was too large to keep. */
function tooLargeError(answer: RecordedAnswer) {
  return {
    status: 409,
    code: "conflict",
    message: `the call sent with this Idempotency-Key ran once and answered HTTP ${answer.status}, but its answer (${answer.bodySize} bytes, SHA-256 ${answer.answerDigest}) was larger than the ${maxStoredAnswerBytes} bytes the server keeps; do not send it again: read the state it left instead`,
  };
}
