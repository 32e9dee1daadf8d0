/**
 * The glob tool inside the sandbox: files only, hidden files included, `.git` skipped,
 * `.gitignore` not applied, newest first, at most 1000, bounded in time (a huge tree answers
 * what was found in time, with `truncated`). Symlinked directories are not descended.
 */
import { stat } from "node:fs/promises";
import { glob } from "tinyglobby";
import { AgentError } from "../failure.ts";
import { checkToolPath, fileError, toLocalPath, toSandboxPath } from "./paths.ts";

const maxResults = 1000;
const timeLimitMs = 10_000;
const statBatch = 256;

/** Finds files by glob pattern below a directory. */
export async function globTool(
  params: { pattern: string; path: string },
  signal: AbortSignal,
): Promise<{ matches: string[]; truncated: boolean }> {
  const shown = checkToolPath(params.path, "path");
  const { pattern } = params;
  if (pattern === "" || pattern.includes("\0")) {
    throw new AgentError("invalid_request", "pattern must be a non-empty glob like **/*.ts");
  }
  if (pattern.startsWith("/") || pattern.split("/").includes("..")) {
    throw new AgentError(
      "invalid_request",
      "pattern is relative to path: put the directory in path (absolute) and the rest in pattern, without ..",
    );
  }
  const cwd = toLocalPath(shown);
  try {
    if (!(await stat(cwd)).isDirectory()) {
      throw new AgentError("invalid_request", `path ${shown} is not a directory`);
    }
  } catch (error) {
    fileError(error, shown);
  }
  const timeout = AbortSignal.timeout(timeLimitMs);
  const found = await glob(pattern, {
    cwd,
    absolute: true,
    dot: true,
    onlyFiles: true,
    followSymbolicLinks: false,
    expandDirectories: false,
    ignore: ["**/.git/**"],
    signal: AbortSignal.any([signal, timeout]),
  });
  if (signal.aborted) throw signal.reason;
  const stamped: { path: string; mtime: number }[] = [];
  for (let i = 0; i < found.length; i += statBatch) {
    const batch = found.slice(i, i + statBatch);
    const stats = await Promise.all(batch.map((path) => stat(path).catch(() => undefined)));
    stats.forEach((info, j) => {
      if (info?.isFile()) stamped.push({ path: batch[j]!, mtime: info.mtimeMs });
    });
  }
  stamped.sort((a, b) => b.mtime - a.mtime || (a.path < b.path ? -1 : 1));
  return {
    matches: stamped.slice(0, maxResults).map((entry) => toSandboxPath(entry.path)),
    truncated: stamped.length > maxResults || timeout.aborted,
  };
}
