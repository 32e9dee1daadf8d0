/**
 * Runs another runtime's command line (deno, bun) against the real reference server, started in
 * this process: children are spawned asynchronously, since the event loop serves that server.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { useTestServer } from "../support/use-server.ts";

/** The repository root, the working directory of every child. */
export const root: string = fileURLToPath(new URL("../../", import.meta.url));

/** What a finished child printed and how it ended. */
export interface ChildResult {
  code: number | null;
  /** stdout and stderr, interleaved. */
  output: string;
}

/**
 * How long a runtime's child may take: type-checking with deno while the rest of the suite runs
 * on two cores has taken over 60 s, so children get a generous bound (tests use `childTestTimeout`).
 */
export const childTimeout = 150_000;
/** The vitest timeout of a test that runs one child: the child's bound plus the server's start. */
export const childTestTimeout: number = childTimeout + 30_000;

/** Runs `command` from the repository root with `env` added, killing it after `timeout` ms. */
export function runChild(
  command: string,
  args: string[],
  env: Record<string, string>,
  timeout = childTimeout,
): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: root,
      env: { ...process.env, NO_COLOR: "1", ...env },
      timeout,
    });
    let output = "";
    child.stdout.on("data", (data) => {
      output += data;
    });
    child.stderr.on("data", (data) => {
      output += data;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output }));
  });
}

/**
 * Starts the real reference server before the file's tests and stops it after; returns a getter
 * of the environment (`LUMINA_URL`, `LUMINA_TOKEN`) that points a child process at it.
 */
export function useServerEnv(): () => Record<string, string> {
  const server = useTestServer();
  return () => ({ LUMINA_URL: server().url, LUMINA_TOKEN: server().token });
}
