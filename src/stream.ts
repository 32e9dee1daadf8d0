import { isToolError } from "./errors.ts";
import { delay } from "./internal/delay.ts";
import { onAbort } from "./internal/signal.ts";
import type { BashOutputResult } from "./protocol/bash.ts";
import { type RetryPolicy, retryDelay } from "./retry.ts";
import type { BashMethods } from "./tools/bash.ts";

/** How long each poll asks the server to hold its answer while nothing new is there. */
const LONG_POLL = 25_000;
/** The first and the longest pause between polls when the server does not long-poll. */
const FIRST_PAUSE = 250;
const LONGEST_PAUSE = 2_000;

/** The options of `streamOutput`. */
export interface StreamOutputOptions {
  /** Stops the stream; the pending `next()` then rejects with `signal.reason`. */
  signal?: AbortSignal | undefined;
  /** Only complete lines containing this substring. */
  filter?: string | undefined;
  /**
   * The byte offset to start from. Without it the stream starts at the session's own position.
   */
  cursor?: number | undefined;
}

/** What the stream needs from its client besides `bashOutput`. */
export interface StreamContext {
  /** The client's retry settings: their backoff paces the stream's re-asks; `limit: 0` stops it. */
  readonly retry: RetryPolicy;
  /** The session's position in each background command's output, as far as the client saw it. */
  readonly positions: ReadonlyMap<string, number>;
}

/**
 * Follows a background command's output: yields each chunk with new output and ends after the
 * first chunk whose status is not `"running"` (yielded even when empty).
 *
 * Every poll sends a cursor, so a lost answer is re-asked without losing or repeating output.
 * Without a given cursor the stream starts at the session's position as the client knows it (0
 * for a command it started; else where its last `bashOutput` of that command ended). Only for a
 * command the client never saw does the first poll go without a cursor, asking for no wait; a
 * lost answer of it comes back by its `Idempotency-Key`, and only if its retries fail too is it
 * re-asked from cursor 0, which may repeat output but never loses it.
 * Failures that may pass (network errors, 429, 502, 503, 504) are re-asked after a backoff that
 * honours `Retry-After`, for as long as the command runs; other errors and aborts end the stream.
 * The next poll starts before a chunk is yielded; when the consumer stops early (`break`),
 * `finally` aborts it. A server that answers at once despite `wait_ms` is polled at intervals
 * instead (250 ms, doubling up to 2 s).
 */
export async function* streamOutput(
  bashOutput: BashMethods["bashOutput"],
  shellId: string,
  options: StreamOutputOptions,
  context: StreamContext,
): AsyncGenerator<BashOutputResult, void, undefined> {
  const { filter, signal } = options;
  // The stream re-asks as long as the command runs, unless retries are off altogether.
  const retry = { ...context.retry, limit: context.retry.limit && Number.POSITIVE_INFINITY };
  const controller = new AbortController();
  const forward = (): void => controller.abort(signal?.reason);
  if (signal?.aborted) forward();
  const detach = signal && !signal.aborted ? onAbort(signal, forward) : undefined;

  const ask = async (from: number | undefined, waitMs: number) => {
    for (let failures = 0; ; failures++) {
      const started = Date.now();
      try {
        const chunk = await bashOutput(shellId, {
          filter,
          cursor: from,
          waitMs,
          signal: controller.signal,
        });
        return { chunk, from, started, waitMs };
      } catch (error) {
        // Once aborted, `delay` rejects at once with the reason, even one that looks transient.
        const wait = retryDelay(retry, failures, error);
        if (wait === undefined) throw error;
        // A Lumina error answer read nothing; any other failure may have moved the position.
        if (from === undefined && !(isToolError(error) && error.code !== "http_error")) from = 0;
        await delay(wait, controller.signal);
      }
    }
  };
  const poll = (from: number | undefined, waitMs: number) => {
    const answer = ask(from, waitMs);
    // Aborted by `finally` when the consumer stops: nobody awaits that rejection.
    answer.catch(() => {});
    return answer;
  };

  try {
    const start = options.cursor ?? context.positions.get(shellId);
    let pending = poll(start, start === undefined ? 0 : LONG_POLL);
    let pause = 0;
    for (;;) {
      const { chunk, from, started, waitMs } = await pending;
      if (chunk.status !== "running") {
        yield chunk;
        return;
      }
      if (chunk.output) {
        pause = 0;
      } else if (chunk.cursor === from && Date.now() - started < waitMs / 2) {
        // Nothing read at all (a filter may skip lines), answered well before the wait: the
        // server ignores `wait_ms`.
        pause = Math.min(LONGEST_PAUSE, pause ? pause * 2 : FIRST_PAUSE);
        await delay(pause, controller.signal);
      }
      pending = poll(chunk.cursor, LONG_POLL);
      if (chunk.output) yield chunk;
    }
  } finally {
    detach?.();
    controller.abort();
  }
}
