/**
 * Answer bodies written with backpressure: the next piece is made only when the client has
 * taken the previous one (the node adapter pulls again after the socket drains), and the
 * caller learns when the body is done, sent or abandoned, to give back the user's slot.
 */
import { jsonChunks } from "./json-chunks.ts";

const encoder = new TextEncoder();

/** The headers of every JSON answer. */
export const jsonAnswerHeaders: Record<string, string> = {
  "content-type": "application/json; charset=utf-8",
  "cache-control": "no-store",
};

/**
 * A body that asks `nextText` for each piece only when the client is ready for it; undefined
 * ends the body. `onEnd` runs once: after the last piece, or when the client hangs up.
 */
export function pulledBody(
  nextText: () => string | undefined | Promise<string | undefined>,
  onEnd: () => void,
): ReadableStream<Uint8Array> {
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    onEnd();
  };
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const text = await nextText();
          if (ended) return; // The client hung up while the piece was made.
          if (text === undefined) {
            controller.close();
            end();
          } else controller.enqueue(encoder.encode(text));
        } catch (error) {
          end();
          controller.error(error);
        }
      },
      cancel: end,
    },
    // Nothing is made ahead of the client's reads.
    { highWaterMark: 0 },
  );
}

/** A 200 JSON answer of `value`, serialised piece by piece as the client reads it. */
export function jsonAnswerResponse(value: unknown, onSent: () => void): Response {
  const pieces = jsonChunks(value);
  const body = pulledBody(() => {
    const next = pieces.next();
    return next.done ? undefined : next.value;
  }, onSent);
  return new Response(body, { status: 200, headers: jsonAnswerHeaders });
}
