/**
 * The grep tool inside the sandbox: ripgrep, spawned by the agent as the sandbox's user, so it
 * sees exactly what the shell sees. The pattern goes in `--regexp=`, globs and types in
 * `--glob=` / `--type=`, the path after `--`: nothing a caller sends can become an option.
 * No PCRE2 (`-P` is never passed): ripgrep's default engine runs in linear time. Searches have
 * a time limit and a bound on output; either cut sets `truncated`.
 *
 * Multiline mode is `-U --multiline-dotall`: a pattern may span lines and `.` matches a
 * newline too; a match's `line` is its matched lines joined by `\n`.
 */
import { spawn } from "node:child_process";
import { stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { AgentGrepParams, AgentGrepResult } from "../../shared/files-protocol.ts";
import { AgentError, isProcessLimitError, processLimitError } from "../failure.ts";
import { collectContentMatches } from "./grep-content.ts";
import { fileError, toLocalPath } from "./paths.ts";

const timeLimitMs = 30_000;
const maxOutputBytes = 64 * 1024 * 1024;

/** The ripgrep arguments for a search (everything after `rg`). */
export function ripgrepArgs(params: AgentGrepParams, target: string): string[] {
  const args = ["--no-config", "--hidden", "--no-messages", "--glob=!.git"];
  if (params.caseInsensitive) args.push("--ignore-case");
  if (params.multiline) args.push("--multiline", "--multiline-dotall");
  if (params.fileType !== undefined) args.push(`--type=${params.fileType}`);
  if (params.glob !== undefined) args.push(`--glob=${params.glob}`);
  if (params.mode === "files_with_matches") args.push("--files-with-matches", "--null");
  else if (params.mode === "count") args.push("--count", "--with-filename", "--null");
  else {
    args.push("--json");
    if (params.before > 0) args.push(`--before-context=${params.before}`);
    if (params.after > 0) args.push(`--after-context=${params.after}`);
  }
  args.push(`--regexp=${params.pattern}`, "--", target);
  return args;
}

interface RipgrepRun {
  stdout: Buffer;
  stderr: string;
  code: number | null;
  truncated: boolean;
}

function runRipgrep(args: string[], cwd: string, signal: AbortSignal): Promise<RipgrepRun> {
  return new Promise((resolve, reject) => {
    const child = spawn("rg", args, { cwd, stdio: ["ignore", "pipe", "pipe"], env: process.env });
    const chunks: Buffer[] = [];
    let bytes = 0;
    let stderr = "";
    let truncated = false;
    const cut = () => {
      truncated = true;
      child.kill("SIGKILL");
    };
    const timer = setTimeout(cut, timeLimitMs);
    const onAbort = () => child.kill("SIGKILL");
    signal.addEventListener("abort", onAbort, { once: true });
    child.stdout.on("data", (chunk: Buffer) => {
      if (truncated) return;
      chunks.push(chunk);
      bytes += chunk.length;
      if (bytes > maxOutputBytes) cut();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      if (stderr.length < 4096) stderr += chunk.toString("utf8");
    });
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(
        isProcessLimitError(error)
          ? processLimitError("ripgrep")
          : new AgentError("unavailable", `ripgrep could not run in the sandbox: ${error.message}`),
      );
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      if (signal.aborted) reject(signal.reason);
      else resolve({ stdout: Buffer.concat(chunks), stderr, code, truncated });
    });
  });
}

/** Cuts a NUL-separated list, dropping a partial last record when the output was truncated. */
function records(text: string, separator: string, truncated: boolean): string[] {
  const parts = text.split(separator);
  const last = parts.pop();
  if (last && !truncated) parts.push(last);
  return parts;
}

/** Searches file contents with ripgrep. */
export async function grepTool(
  params: AgentGrepParams,
  shownPath: string,
  signal: AbortSignal,
): Promise<AgentGrepResult> {
  const local = toLocalPath(shownPath);
  let isDirectory = false;
  try {
    isDirectory = (await stat(local)).isDirectory();
  } catch (error) {
    fileError(error, shownPath);
  }
  // A directory is searched from inside as "./", so a `glob` with a slash is relative to it
  // (as in the glob tool); answers are mapped back onto the absolute path.
  const cwd = isDirectory ? local : dirname(local);
  const target = isDirectory ? "./" : `./${basename(local)}`;
  const base = isDirectory ? shownPath : dirname(shownPath);
  const absolute = (path: string) => join(base, path);
  const run = await runRipgrep(ripgrepArgs(params, target), cwd, signal);
  if (run.code === 2 && run.stdout.length === 0 && run.stderr.trim()) {
    throw new AgentError("invalid_request", run.stderr.trim().slice(0, 2000));
  }
  const { truncated } = run;
  if (params.mode === "files_with_matches") {
    const files = records(run.stdout.toString("utf8"), "\0", truncated).map(absolute);
    return { mode: "files_with_matches", files: files.sort(), truncated };
  }
  if (params.mode === "count") {
    const counts = records(run.stdout.toString("utf8"), "\n", truncated).map((line) => {
      const at = line.lastIndexOf("\0");
      return { file: absolute(line.slice(0, at)), count: Number(line.slice(at + 1)) };
    });
    counts.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
    return { mode: "count", counts, truncated };
  }
  const content = collectContentMatches(run.stdout, params, truncated, absolute);
  return { mode: "content", ...content, truncated: truncated || content.cut };
}
