/** Helpers of the backend conformance suite: a shell call, a process count, a bounded wait. */
import { readdirSync, readFileSync } from "node:fs";
import type { SandboxRuntime } from "../../server/sandbox/backend.ts";

/** A child that clears its environment, leaves its session and is orphaned by a double fork. */
export const escapee = (seconds: string): string =>
  `/usr/bin/env -i /usr/bin/setsid /bin/sh -c '/bin/sleep ${seconds} & exit' &`;

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

/** Waits (bounded, generously) until `check` holds. */
export async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let attempt = 0; attempt < 150; attempt++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting until ${what}`);
}
