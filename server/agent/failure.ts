import type { AgentFailure } from "../shared/agent-protocol.ts";

/** A failure thrown by an agent handler; it crosses to the server as `{ code, message }`. */
export class AgentError extends Error implements AgentFailure {
  override name = "AgentError" as const;
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Whether a process could not start because the sandbox has none left: `spawn` fails with
 * EAGAIN when the sandbox's user is at its process limit (RLIMIT_NPROC) or its pids group is full.
 */
export function isProcessLimitError(error: unknown): boolean {
  const { code, syscall } = (error ?? {}) as { code?: unknown; syscall?: unknown };
  return code === "EAGAIN" && typeof syscall === "string" && syscall.startsWith("spawn");
}

/** Whether a shell's output says that bash itself could not fork (the same limit, seen by bash). */
export function saysForkFailed(output: string): boolean {
  return /fork: (retry: )?Resource temporarily unavailable/.test(output);
}

/**
 * The 503 `unavailable` of CONTRACT §8 for a call that needed a new process while the sandbox
 * is at its process limit: it says so and what frees processes.
 */
export function processLimitError(what: string): AgentError {
  return new AgentError(
    "unavailable",
    `the sandbox is at its process limit, so ${what} could not start: end processes it no longer needs (kill_bash a background command, or restart the sandbox), then retry`,
  );
}
