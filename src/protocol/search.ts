import * as v from "valibot";
import { parseAnswer } from "./parse.ts";

/** The result of `glob`. */
export interface GlobResult {
  /** The absolute paths of the matching files, newest first. */
  matches: string[];
  /** The number of paths returned. */
  count: number;
  /** The directory searched. */
  searchPath: string;
  /** Whether more files matched than were returned. */
  truncated: boolean;
}

/** What `grep` returns: file names, matching lines, or counts per file. */
export type GrepOutputMode = "files_with_matches" | "content" | "count";

/** The result of `grep` in `files_with_matches` mode. */
export interface GrepFilesResult {
  mode: "files_with_matches";
  /** The absolute paths of the files with a match. */
  files: string[];
  /** The number of files. */
  count: number;
  /** Set when the server's time or size bound cut the search short (an addition to protocol v1). */
  truncated?: boolean;
}

/** One matching line of `grep` in `content` mode. */
export interface GrepContentMatch {
  /** The absolute path of the file. */
  file: string;
  /** The 1-based line number, `null` unless `lineNumbers` was set. */
  lineNumber: number | null;
  /** The matching line (in multiline mode, the matched lines joined by `\n`). */
  line: string;
  /** The context lines before the match. */
  beforeContext: string[];
  /** The context lines after the match. */
  afterContext: string[];
}

/** The result of `grep` in `content` mode. */
export interface GrepContentResult {
  mode: "content";
  /** The matching lines. */
  matches: GrepContentMatch[];
  /** The number of matching lines (also those cut from `matches`). */
  totalMatches: number;
  /** Set when the server's time or size bound cut the search short (an addition to protocol v1). */
  truncated?: boolean;
}

/** The number of matching lines in one file. */
export interface GrepCountEntry {
  /** The absolute path of the file. */
  file: string;
  /** Its number of matching lines. */
  count: number;
}

/** The result of `grep` in `count` mode. */
export interface GrepCountResult {
  mode: "count";
  /** The counts per file. */
  counts: GrepCountEntry[];
  /** The sum of the counts. */
  total: number;
  /** Set when the server's time or size bound cut the search short (an addition to protocol v1). */
  truncated?: boolean;
}

/** The result of `grep`, discriminated by `mode`. */
export type GrepResult = GrepFilesResult | GrepContentResult | GrepCountResult;

const strings = v.array(v.string());
const glob = v.object({
  matches: strings,
  count: v.number(),
  search_path: v.string(),
  truncated: v.boolean(),
});
// Absent unless a bound cut the search; never `undefined` on the wire, so exactly optional.
const truncated = v.exactOptional(v.boolean());
// Each mode a one-item picklist, as `read`'s types are: one valibot schema fewer in the bundle.
const grepFiles = v.object({
  mode: v.picklist(["files_with_matches"]),
  files: strings,
  count: v.number(),
  truncated,
});
const grepContent = v.object({
  mode: v.picklist(["content"]),
  matches: v.array(
    v.object({
      file: v.string(),
      line_number: v.nullable(v.number()),
      line: v.string(),
      before_context: strings,
      after_context: strings,
    }),
  ),
  total_matches: v.number(),
  truncated,
});
const grepCount = v.object({
  mode: v.picklist(["count"]),
  counts: v.array(v.object({ file: v.string(), count: v.number() })),
  total: v.number(),
  truncated,
});
// One schema per mode: the answer must be in the mode that was asked for.
const grepModes = { files_with_matches: grepFiles, content: grepContent, count: grepCount };

/** The answer schemas of the search tools, by tool name (the wire's single definition). */
export const searchAnswers: Readonly<Record<"glob" | "grep", v.GenericSchema>> = {
  glob,
  // Pure: the entry uses the per-mode schemas alone, so a bundler may drop this one.
  grep: /* @__PURE__ */ v.variant("mode", [grepFiles, grepContent, grepCount]),
};

/** Validates and maps the answer of the `glob` tool. */
export function toGlobResult(body: unknown): GlobResult {
  return parseAnswer<GlobResult, typeof glob>(glob, body, "glob");
}

/**
 * Validates and maps the answer of the `grep` tool to a request in `mode`: an answer in another
 * mode is a ValidationError on `mode`.
 */
export function toGrepResult(body: unknown, mode: GrepOutputMode): GrepResult {
  // An unknown mode accepts no answer: a picklist of nothing (reported as "expected never").
  const schema = grepModes[mode] ?? v.picklist([]);
  return parseAnswer<GrepResult, typeof schema>(schema, body, "grep");
}
