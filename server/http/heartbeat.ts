/**
 * A JSON answer that may take minutes (a foreground bash command): the 200 headers go out at
 * once and the body stays alive with a single space every `heartbeatMs` (leading whitespace is
 * valid JSON) until the answer is written. Clients and proxies that give up on late headers or
 * idle bodies therefore keep waiting.
 *
 * A failure after the headers were sent cannot change the status any more, so the body is then
 * `{"error":{"code","message","status"}}` with the status the answer would have had; the SDK
 * treats any body with an `error` member as a ToolError.
 */
import { toWireError } from "./errors.ts";

const space = new TextEncoder().encode(" ");

/** Streams the settled value of `work` as JSON behind heartbeat spaces. */
export function heartbeatJsonResponse(
  work: Promise<unknown>,
  heartbeatMs: number,
  log: (line: string) => void,
): Response {
  let timer: ReturnType<typeof setInterval> | undefined;
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      // A first byte right away makes the server send the headers now.
      controller.enqueue(space);
      timer = setInterval(() => controller.enqueue(space), heartbeatMs);
      void work
        .then(
          (result) => JSON.stringify(result),
          (error: unknown) => {
            const wire = toWireError(error, log);
            return JSON.stringify({
              error: { code: wire.code, message: wire.message, status: wire.status },
            });
          },
        )
        .then((text) => {
          clearInterval(timer);
          try {
            controller.enqueue(new TextEncoder().encode(text));
            controller.close();
          } catch {
            // The client hung up first; nothing is left to write to.
          }
        });
    },
    cancel() {
      clearInterval(timer);
    },
  });
  return new Response(stream, {
    status: 200,
    headers: {
      "content-type": "application/json; charset=utf-8",
      "cache-control": "no-store",
      // Ask reverse proxies (nginx) not to buffer the heartbeats away.
      "x-accel-buffering": "no",
    },
  });
}
