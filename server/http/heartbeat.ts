/**
 * A JSON answer that may take minutes (a foreground bash command): the 200 headers go out at
 * once and the body stays alive with a single space every `heartbeatMs` (leading whitespace is
 * valid JSON) until the answer is written. Clients and proxies that give up on late headers or
 * idle bodies therefore keep waiting. Spaces and the answer are made only as fast as the client
 * reads them, so a client that stops reading makes the server hold nothing more.
 *
 * A failure after the headers were sent cannot change the status any more, so the body is then
 * `{"error":{"code","message","status"}}` with the status the answer would have had; the SDK
 * treats any body with an `error` member as a ToolError.
 */
import { jsonAnswerHeaders, pulledBody } from "./answer-body.ts";
import { toWireError } from "./errors.ts";
import { jsonChunks } from "./json-chunks.ts";

/**
 * Streams the settled value of `work` as JSON behind heartbeat spaces; `onSent` runs once the
 * body is written or the client hung up.
 */
export function heartbeatJsonResponse(
  work: Promise<unknown>,
  heartbeatMs: number,
  log: (line: string) => void,
  onSent: () => void = () => {},
): Response {
  const answer = work.then(
    (result) => jsonChunks(result),
    (error: unknown) => {
      const wire = toWireError(error, log);
      return jsonChunks({ error: { code: wire.code, message: wire.message, status: wire.status } });
    },
  );
  let pieces: Generator<string, void, undefined> | undefined;
  let started = false;
  const body = pulledBody(async () => {
    // A first byte right away makes the server send the headers now.
    if (!started) {
      started = true;
      return " ";
    }
    if (!pieces) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const beat = new Promise<undefined>((resolve) => {
        timer = setTimeout(resolve, heartbeatMs, undefined);
      });
      pieces = await Promise.race([answer, beat]).finally(() => clearTimeout(timer));
      if (!pieces) return " ";
    }
    const next = pieces.next();
    return next.done ? undefined : next.value;
  }, onSent);
  return new Response(body, {
    status: 200,
    // Ask reverse proxies (nginx) not to buffer the heartbeats away.
    headers: { ...jsonAnswerHeaders, "x-accel-buffering": "no" },
  });
}
