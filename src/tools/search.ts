import { ownFields } from "../internal/options.ts";
import {
  type GlobResult,
  type GrepContentResult,
  type GrepCountResult,
  type GrepFilesResult,
  type GrepOutputMode,
  type GrepResult,
  toGlobResult,
  toGrepResult,
} from "../protocol/search.ts";
import { type CallOptions, type Requester, toolCaller } from "../request.ts";

/** The options of `glob`. */
export interface GlobOptions extends CallOptions {
  /**
   * The directory the pattern is relative to.
   * @default "/home/user"
   */
  path?: string | undefined;
}

/** The options of `grep` (ripgrep semantics). */
export interface GrepOptions extends CallOptions {
  /**
   * The file or directory to search.
   * @default "/home/user"
   */
  path?: string | undefined;
  /** Only files matching this glob, such as `"*.ts"`. */
  glob?: string | undefined;
  /**
   * What to return: file names, matching lines, or counts per file.
   * @default "files_with_matches"
   */
  outputMode?: GrepOutputMode | undefined;
  /**
   * Whether content matches carry their line number.
   * @default false
   */
  lineNumbers?: boolean | undefined;
  /** Context lines after each match (overrides `context` on that side). */
  after?: number | undefined;
  /** Context lines before each match (overrides `context` on that side). */
  before?: number | undefined;
  /** Context lines on both sides of each match. */
  context?: number | undefined;
  /** Only files of this ripgrep type (`rg --type`), such as `"py"`. */
  fileType?: string | undefined;
  /**
   * Whether the match ignores case.
   * @default false
   */
  caseInsensitive?: boolean | undefined;
  /**
   * Whether a pattern may span lines.
   * @default false
   */
  multiline?: boolean | undefined;
}

/** The search methods of a client. */
export interface SearchMethods {
  /** Lists the files matching a glob pattern, newest first (at most 1000). */
  glob(pattern: string, options?: GlobOptions): Promise<GlobResult>;
  /**
   * Searches file contents with a regular expression. The result's type follows `outputMode`.
   *
   * @example
   * ```ts
   * const { matches } = await lumina.grep("TODO", { outputMode: "content", lineNumbers: true });
   * ```
   */
  grep(
    pattern: string,
    options: GrepOptions & { outputMode: "content" },
  ): Promise<GrepContentResult>;
  grep(pattern: string, options: GrepOptions & { outputMode: "count" }): Promise<GrepCountResult>;
  grep(
    pattern: string,
    options?: GrepOptions & { outputMode?: "files_with_matches" | undefined },
  ): Promise<GrepFilesResult>;
  grep(pattern: string, options?: GrepOptions): Promise<GrepResult>;
}

const GREP_FIELDS = [
  "path",
  "glob",
  "outputMode",
  "lineNumbers",
  "after",
  "before",
  "context",
  "fileType",
  "caseInsensitive",
  "multiline",
] satisfies (keyof GrepOptions)[];

/** Creates the search methods over `request`. */
export function createSearchMethods(request: Requester, sandbox: string): SearchMethods {
  const tool = toolCaller(request, sandbox);
  return {
    glob: async (pattern, options = {}) => {
      const body = { pattern, ...ownFields("glob", options, ["path"]) };
      return tool({ name: "glob", body, parse: toGlobResult, options, idempotent: true });
    },
    // The overloads narrow the declared type by the requested mode, so the answer must be in it.
    grep: (async (pattern: string, options: GrepOptions = {}) => {
      const body = { pattern, ...ownFields("grep", options, GREP_FIELDS) };
      const mode = options.outputMode ?? "files_with_matches";
      return tool({
        name: "grep",
        body,
        parse: (answer) => toGrepResult(answer, mode),
        options,
        idempotent: true,
      });
    }) as SearchMethods["grep"],
  };
}
