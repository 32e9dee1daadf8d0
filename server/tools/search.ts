/** glob and grep: wire-shaped bodies in, wire-shaped answers out. Owned by the file tools. */
import type { ToolContext } from "./context.ts";

export interface GlobBody {
  pattern: string;
  path?: string;
}
export interface GrepBody {
  pattern: string;
  path?: string;
  glob?: string;
  output_mode?: "files_with_matches" | "content" | "count";
  line_numbers?: boolean;
  after?: number;
  before?: number;
  context?: number;
  file_type?: string;
  case_insensitive?: boolean;
  multiline?: boolean;
}
export type GrepAnswer =
  | { mode: "files_with_matches"; files: string[]; count: number }
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
    }
  | { mode: "count"; counts: { file: string; count: number }[]; total: number };

/** Finds files by glob pattern, newest first, at most 1000. */
export async function globFiles(
  _ctx: ToolContext,
  _body: GlobBody,
): Promise<{ matches: string[]; count: number; search_path: string; truncated: boolean }> {
  throw new Error("globFiles: not implemented yet");
}

/** Searches file contents with ripgrep inside the sandbox. */
export async function grepFiles(_ctx: ToolContext, _body: GrepBody): Promise<GrepAnswer> {
  throw new Error("grepFiles: not implemented yet");
}
