import * as v from "valibot";

const absolutePath = (what: string) =>
  v.pipe(v.string(), v.minLength(1), v.description(`${what} Absolute, e.g. /home/user/app.py.`));
const count = (what: string, min: number) =>
  v.optional(v.pipe(v.number(), v.integer(), v.minValue(min), v.description(what)));
const flag = (what: string) => v.optional(v.pipe(v.boolean(), v.description(what)));
const text = (what: string) => v.optional(v.pipe(v.string(), v.description(what)));

/** The input of the `Read` tool. */
export interface ReadInput {
  file_path: string;
  offset?: number | undefined;
  limit?: number | undefined;
}
/** The schema of the `Read` tool's input. */
export const readInput: v.GenericSchema<ReadInput> = v.strictObject({
  file_path: absolutePath("The file to read."),
  offset: count("The 1-based line to start at. Only for large files.", 1),
  limit: count("The number of lines to read (default 2000). Only for large files.", 1),
});

/** The input of the `Write` tool. */
export interface WriteInput {
  file_path: string;
  content: string;
}
/** The schema of the `Write` tool's input. */
export const writeInput: v.GenericSchema<WriteInput> = v.strictObject({
  file_path: absolutePath("The file to create or overwrite."),
  content: v.pipe(v.string(), v.description("The whole new content of the file.")),
});

/** The input of the `Edit` tool. */
export interface EditInput {
  file_path: string;
  old_string: string;
  new_string: string;
  replace_all?: boolean | undefined;
}
/** The schema of the `Edit` tool's input. */
export const editInput: v.GenericSchema<EditInput> = v.strictObject({
  file_path: absolutePath("The file to edit."),
  old_string: v.pipe(
    v.string(),
    v.description("The exact text to replace, whitespace included, without line-number prefixes."),
  ),
  new_string: v.pipe(v.string(), v.description("The text to put in its place; must differ.")),
  replace_all: flag("Replace every occurrence instead of requiring exactly one (default false)."),
});

/** The input of the `Glob` tool. */
export interface GlobInput {
  pattern: string;
  path?: string | undefined;
}
/** The schema of the `Glob` tool's input. */
export const globInput: v.GenericSchema<GlobInput> = v.strictObject({
  pattern: v.pipe(v.string(), v.minLength(1), v.description('The glob, e.g. "**/*.ts".')),
  path: text("The absolute directory to search in (default /home/user)."),
});

/** The input of the `Grep` tool. */
export interface GrepInput {
  pattern: string;
  path?: string | undefined;
  glob?: string | undefined;
  output_mode?: "content" | "files_with_matches" | "count" | undefined;
  line_numbers?: boolean | undefined;
  after?: number | undefined;
  before?: number | undefined;
  context?: number | undefined;
  file_type?: string | undefined;
  case_insensitive?: boolean | undefined;
  multiline?: boolean | undefined;
}
/** The schema of the `Grep` tool's input. */
export const grepInput: v.GenericSchema<GrepInput> = v.strictObject({
  pattern: v.pipe(v.string(), v.minLength(1), v.description("The regular expression (ripgrep).")),
  path: text("The absolute file or directory to search (default /home/user)."),
  glob: text('Only search files matching this glob, e.g. "*.py".'),
  output_mode: v.optional(
    v.pipe(
      v.picklist(["content", "files_with_matches", "count"]),
      v.description(
        '"files_with_matches" (default) lists files, "content" shows matching lines, "count" counts them per file.',
      ),
    ),
  ),
  line_numbers: flag("In content mode, include line numbers."),
  after: count("In content mode, lines of context after each match.", 0),
  before: count("In content mode, lines of context before each match.", 0),
  context: count("In content mode, lines of context on both sides.", 0),
  file_type: text('Only search this ripgrep file type, e.g. "py", "js".'),
  case_insensitive: flag("Ignore case."),
  multiline: flag("Let the pattern span lines."),
});

/** The input of the `Bash` tool. */
export interface BashInput {
  command: string;
  timeout?: number | undefined;
  description?: string | undefined;
  run_in_background?: boolean | undefined;
}
/** The schema of the `Bash` tool's input. */
export const bashInput: v.GenericSchema<BashInput> = v.strictObject({
  command: v.pipe(v.string(), v.minLength(1), v.description("The bash command to run.")),
  timeout: v.optional(
    v.pipe(
      v.number(),
      v.integer(),
      v.minValue(1),
      v.maxValue(600_000),
      v.description("The time limit in milliseconds, at most 600000 (default 120000)."),
    ),
  ),
  description: text("A short summary of what the command does, in 5-10 words."),
  run_in_background: flag(
    "Start the command in the background and return its shell_id at once (for servers, watchers, long builds).",
  ),
});

/** The input of the `BashOutput` tool. */
export interface BashOutputInput {
  bash_id: string;
  filter?: string | undefined;
  wait_ms?: number | undefined;
}
/** The schema of the `BashOutput` tool's input. */
export const bashOutputInput: v.GenericSchema<BashOutputInput> = v.strictObject({
  bash_id: v.pipe(v.string(), v.minLength(1), v.description("The shell_id Bash returned.")),
  filter: text("Only return complete lines containing this text."),
  wait_ms: v.optional(
    v.pipe(
      v.number(),
      v.integer(),
      v.minValue(0),
      v.maxValue(30_000),
      v.description("Wait up to this many ms (at most 30000) for new output if there is none yet."),
    ),
  ),
});

/** The input of the `KillBash` tool. */
export interface KillBashInput {
  shell_id: string;
}
/** The schema of the `KillBash` tool's input. */
export const killBashInput: v.GenericSchema<KillBashInput> = v.strictObject({
  shell_id: v.pipe(v.string(), v.minLength(1), v.description("The shell_id Bash returned.")),
});
