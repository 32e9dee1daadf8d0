import { failure, json, type RecordedRequest } from "./fake-server.ts";

/**
 * A background command as the real server keeps it: its whole output grows by one step per
 * `bash_output` request, and a request without a cursor reads from (and every read moves) the
 * session's position. `bash` starts it. `drop(request)` may lose an answer after it was read,
 * as a lost connection does; `refuse` answers 429 (before any read). A request with an
 * `Idempotency-Key` already answered gets that answer again, as the real server replays it.
 */
export function fakeCommand(
  steps: string[],
  faults: {
    drop?: (index: number) => boolean;
    refuse?: (index: number) => Response | undefined;
  } = {},
) {
  const state = { position: 0, polls: 0, dropped: 0, refused: 0 };
  const answered = new Map<string, unknown>();
  const respond = (request: RecordedRequest): Response => {
    const key = request.headers["idempotency-key"];
    if (key && answered.has(key)) return json(answered.get(key));
    if (request.path.endsWith("/tools/bash")) {
      return json({
        output: "",
        exit_code: 0,
        killed: false,
        truncated: false,
        shell_id: "bash_1",
      });
    }
    const index = state.polls++;
    const refusal = faults.refuse?.(index);
    if (refusal) {
      state.refused++;
      return refusal;
    }
    const step = Math.min(index, steps.length - 1);
    const output = steps.slice(0, step + 1).join("");
    const status = step === steps.length - 1 ? "completed" : "running";
    const { cursor } = request.body as { cursor?: number };
    const from = cursor ?? state.position;
    state.position = output.length;
    const answer = {
      output: output.slice(from),
      status,
      exit_code: status === "running" ? null : 0,
      cursor: output.length,
    };
    if (key) answered.set(key, answer);
    if (faults.drop?.(index)) {
      state.dropped++;
      throw new TypeError("fetch failed: the answer was lost");
    }
    return json(answer);
  };
  return { state, respond, whole: steps.join("") };
}

/** A 429 answer of the Lumina server with a `Retry-After` in seconds. */
export function tooMany(seconds: number): Response {
  return failure(429, "rate_limited", "Too many requests: retry later", {
    "retry-after": String(seconds),
  });
}
