/**
 * Helpers of the backend conformance suite: a shell call and a process count (the escapee and
 * the bounded wait come from test/support/processes.ts).
 */
import { readdirSync, readFileSync } from "node:fs";
import type { SandboxRuntime } from "../../server/sandbox/backend.ts";

export { escapee, until } from "../support/processes.ts";

/** Runs a shell command in the sandbox (the shell engine's own session of this suite). */
export async function run(
  runtime: SandboxRuntime,
  command: string,
): Promise<{ output: string; exitCode: number }> {
  return runtime.call("shell_run", { sessionKey: "conformance", command, timeoutMs: 30_000 });
}

/** How many processes of this host have exactly `commandLine` (arguments joined by spaces). */
export function processesOnHost(commandLine: string): number {
  let count = 0;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let args = "";
    try {
      args = readFileSync(`/proc/${entry}/cmdline`, "utf8");
    } catch {
      continue; // Gone meanwhile.
    }
    if (args === `${commandLine.split(" ").join("\0")}\0`) count += 1;
  }
  return count;
}
