/**
 * Runs GNU tar from the sandbox's read-only `/usr` (never a `tar` or `gzip` the user put on
 * `PATH`), in the C locale so that its listings quote every unusual byte the same way.
 */
import { type ChildProcessByStdio, spawn } from "node:child_process";
import type { Readable } from "node:stream";
import { AgentError } from "../failure.ts";

/** The tar the agent runs. */
export const tarPath = "/usr/bin/tar";
const stderrKeep = 2048;

/** A running tar: its output, and its end (rejecting with what its stderr said). */
export interface TarRun {
  readonly output: Readable;
  /** Resolves once tar exited well; rejects with an `AgentError` naming its complaint. */
  readonly done: Promise<void>;
}

/** Starts tar with `args`; an abort kills it. `what` names the step in error messages. */
export function runTar(args: string[], what: string, signal: AbortSignal): TarRun {
  const child: ChildProcessByStdio<null, Readable, Readable> = spawn(tarPath, args, {
    stdio: ["ignore", "pipe", "pipe"],
    env: { PATH: "/usr/bin:/bin", LC_ALL: "C", HOME: process.env["HOME"] ?? "/home/user" },
    signal,
    killSignal: "SIGKILL",
  });
  let stderr = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (text: string) => {
    stderr = (stderr + text).slice(-stderrKeep);
  });
  const done = new Promise<void>((resolve, reject) => {
    child.once("error", (error) => reject(signal.aborted ? signal.reason : error));
    child.once("close", (code) => {
      if (signal.aborted) reject(signal.reason);
      // 1 is "some files differ" (a file changed while it was read): the archive is still whole.
      else if (code === 0 || (code === 1 && args[0] === "-c")) resolve();
      else reject(tarFailure(what, stderr));
    });
  });
  done.catch(() => {});
  return { output: child.stdout, done };
}

/** The error for a failed tar, disk full told apart (507) from a bad archive (400). */
function tarFailure(what: string, stderr: string): AgentError {
  const detail = stderr
    .split("\n")
    .filter((line) => line && !line.includes("Exiting with failure status"))
    .slice(-3)
    .join("; ");
  if (/No space left on device|Disk quota exceeded/.test(stderr)) {
    return new AgentError(
      "disk_full",
      `no space left to ${what}: the sandbox's disk is full; delete files it no longer needs with bash, then retry (${detail})`,
    );
  }
  return new AgentError("invalid_request", `tar could not ${what}: ${detail || "it failed"}`);
}
