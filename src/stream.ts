import { delay } from "./internal/delay.ts";
import type { BashOutputResult } from "./protocol/bash.ts";
import type { BashMethods } from "./tools/bash.ts";

/** How long each poll asks the server to hold its answer while nothing new is there. */
const LONG_POLL = 25_000;
/** The first and the longest pause between polls when the server does not long-poll. */
const FIRST_PAUSE = 250;
const LONGEST_PAUSE = 2_000;

/** The options of `streamOutput`. */
export interface StreamOutputOptions {
  /** Only complete lines containing this substring. */
  filter?: string | undefined;
  /**
   * The byte offset to start from. Without it the stream starts at the session's own position.
   */
  cursor?: number | undefined;
}

/** The call options of `streamOutput`. */
export interface StreamCallOptions {
  /** Stops the stream; the pending `next()` then rejects with `signal.reason`. */
  signal?: AbortSignal | undefined;
}

/**
 * Follows a background command's output: yields each chunk with new output and ends after the
 * first chunk whose status is not `"running"` (yielded even when empty).
 *
 * The first poll has no cursor unless one is given, so it starts at the session's position; it
 * asks for no wait, which keeps short the one request a retry could not repeat safely (it moves
 * the session's position). Every later poll sends the previous answer's cursor and long-polls, so
 * a retried poll neither loses nor repeats output. The next poll starts before a chunk is yielded;
 * when the consumer stops early (`break`), `finally` aborts it. A server that answers at once
 * despite `wait_ms` is polled at intervals instead (250 ms, doubling up to 2 s).
 */
export async function* streamOutput(
  bashOutput: BashMethods["bashOutput"],
  shellId: string,
  options: StreamOutputOptions = {},
  call: StreamCallOptions = {},
): AsyncGenerator<BashOutputResult, void, undefined> {
  const { filter } = options;
  const { signal } = call;
  const controller = new AbortController();
  const forward = (): void => controller.abort(signal?.reason);
  if (signal?.aborted) forward();
  else signal?.addEventListener("abort", forward, { once: true });

  const poll = (cursor: number | undefined, waitMs: number) => {
    const started = Date.now();
    const answer = bashOutput(shellId, { filter, cursor, waitMs }, { signal: controller.signal });
    // Aborted by `finally` when the consumer stops: nobody awaits that rejection.
    answer.catch(() => {});
    return { answer, started, waitMs };
  };

  let cursor = options.cursor;
  let pending = poll(cursor, cursor === undefined ? 0 : LONG_POLL);
  let pause = 0;
  try {
    for (;;) {
      const chunk = await pending.answer;
      if (chunk.status !== "running") {
        yield chunk;
        return;
      }
      if (chunk.output) {
        pause = 0;
      } else if (chunk.cursor === cursor && Date.now() - pending.started < pending.waitMs / 2) {
        // Nothing read at all (a filter may skip lines), answered well before the wait: the
        // server ignores `wait_ms`.
        pause = Math.min(LONGEST_PAUSE, pause ? pause * 2 : FIRST_PAUSE);
        await delay(pause, controller.signal);
      }
      cursor = chunk.cursor;
      pending = poll(cursor, LONG_POLL);
      if (chunk.output) yield chunk;
    }
  } finally {
    signal?.removeEventListener("abort", forward);
    controller.abort();
  }
}
