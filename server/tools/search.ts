/** glob and grep: wire-shaped bodies in, wire-shaped answers out. Owned by the file tools. */

import { ServerError } from "../errors.ts";
import type { AgentGrepParams } from "../shared/files-protocol.ts";
import type { ToolBody } from "./bodies.ts";
import type { ToolContext } from "./context.ts";
import { checkToolPath } from "./tool-path.ts";

/** The validated body of `glob` (its request schema's output). */
export type GlobBody = ToolBody<"glob">;
/** The validated body of `grep` (its request schema's output). */
export type GrepBody = ToolBody<"grep">;
/** A grep answer; `truncated` (an addition to the contract) is present when a bound cut the search. */
export type GrepAnswer =
  | { mode: "files_with_matches"; files: string[]; count: number; truncated?: true }
  | {
      mode: "content";
      matches: {
        file: string;
        line_number: number | null;
        line: string;
        before_context: string[];
        after_context: string[];
      }[];
      total_matches: number;
      truncated?: true;
    }
  | { mode: "count"; counts: { file: string; count: number }[]; total: number; truncated?: true };

const home = "/home/user";
const maxContext = 1000;

/** Finds files by glob pattern, newest first, at most 1000. */
export async function globFiles(
  ctx: ToolContext,
  body: GlobBody,
): Promise<{ matches: string[]; count: number; search_path: string; truncated: boolean }> {
  const path = checkToolPath(body.path ?? home, "path");
  const result = await ctx.runtime.call("file_glob", { pattern: body.pattern, path }, ctx.signal);
  return {
    matches: result.matches,
    count: result.matches.length,
    search_path: path,
    truncated: result.truncated,
  };
}

function contextLines(value: number | undefined, field: string): number {
  if (value === undefined) return 0;
  if (!Number.isInteger(value) || value < 0 || value > maxContext) {
    throw new ServerError("invalid_request", `${field} must be an integer from 0 to ${maxContext}`);
  }
  return value;
}

/** Searches file contents with ripgrep inside the sandbox. */
export async function grepFiles(ctx: ToolContext, body: GrepBody): Promise<GrepAnswer> {
  const path = checkToolPath(body.path ?? home, "path");
  if (body.pattern === "") throw new ServerError("invalid_request", "pattern must not be empty");
  if (body.file_type !== undefined && !/^[A-Za-z0-9_+-]{1,64}$/.test(body.file_type)) {
    throw new ServerError(
      "invalid_request",
      `unknown file_type ${JSON.stringify(body.file_type)}; use an rg --type name like ts or py`,
    );
  }
  // `context` sets both sides; a positive `before` / `after` overrides its own side.
  const context = contextLines(body.context, "context");
  const before = contextLines(body.before, "before") || context;
  const after = contextLines(body.after, "after") || context;
  const params: AgentGrepParams = {
    pattern: body.pattern,
    path,
    mode: body.output_mode ?? "files_with_matches",
    caseInsensitive: body.case_insensitive ?? false,
    multiline: body.multiline ?? false,
    lineNumbers: body.line_numbers ?? false,
    before,
    after,
  };
  if (body.glob !== undefined && body.glob !== "") params.glob = body.glob;
  if (body.file_type !== undefined) params.fileType = body.file_type;
  const result = await ctx.runtime.call("file_grep", params, ctx.signal);
  const cut = result.truncated ? { truncated: true as const } : {};
  if (result.mode === "files_with_matches") {
    return { mode: result.mode, files: result.files, count: result.files.length, ...cut };
  }
  if (result.mode === "count") {
    const total = result.counts.reduce((sum, entry) => sum + entry.count, 0);
    return { mode: result.mode, counts: result.counts, total, ...cut };
  }
  return { mode: result.mode, matches: result.matches, total_matches: result.totalMatches, ...cut };
}
