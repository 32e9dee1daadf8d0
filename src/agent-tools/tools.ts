import { type GenericSchema, safeParse } from "valibot";
import type { LuminaToolsClient, ToolCallOptions } from "./client.ts";
import { descriptions } from "./descriptions.ts";
import { ToolInputError } from "./errors.ts";
import { type ToolJsonSchema, toToolJsonSchema } from "./json-schema.ts";
import type * as out from "./outputs.ts";
import * as schemas from "./schemas.ts";

/** The options of one tool call. */
export interface ToolExecuteOptions {
  /** The signal that aborts the call (and, for Bash, kills the command). */
  signal?: AbortSignal;
}

/** A tool a model can call: its name, what it tells the model, its input schema, and its code. */
export interface LuminaTool<Name extends string = string, Input = never, Output = unknown> {
  /** The tool's name, equal to its key in `makeTools()`'s result. */
  readonly name: Name;
  /** What the tool does and how to use it, written for a model. */
  readonly description: string;
  /** The input's valibot schema (a Standard Schema). */
  readonly inputSchema: GenericSchema<Input>;
  /** The input's JSON Schema, for model APIs. */
  readonly jsonSchema: ToolJsonSchema;
  /** Validates the input, runs the tool, and resolves to a plain JSON object (snake_case). */
  execute(input: Input, options?: ToolExecuteOptions): Promise<Output>;
}

/**
 * The eight Lumina tools, keyed by name. A type alias, not an interface, so that it fits
 * `Record<string, CallableTool>` parameters.
 */
export type LuminaTools = {
  Read: LuminaTool<"Read", schemas.ReadInput, out.ReadOutput>;
  Write: LuminaTool<"Write", schemas.WriteInput, out.WriteOutput>;
  Edit: LuminaTool<"Edit", schemas.EditInput, out.EditOutput>;
  Glob: LuminaTool<"Glob", schemas.GlobInput, out.GlobOutput>;
  Grep: LuminaTool<"Grep", schemas.GrepInput, out.GrepOutput>;
  Bash: LuminaTool<"Bash", schemas.BashInput, out.BashOutput>;
  BashOutput: LuminaTool<"BashOutput", schemas.BashOutputInput, out.BashOutputOutput>;
  KillBash: LuminaTool<"KillBash", schemas.KillBashInput, out.KillBashOutput>;
};

/**
 * Creates the eight agent tools over a Lumina client, ready for any model API: each has a name,
 * a description written for a model, a valibot and a JSON Schema of its snake_case input, and
 * an `execute` that validates the input and resolves to the wire's snake_case result.
 *
 * @param client The client whose sandbox the tools act on.
 * @returns The tools, keyed by name.
 *
 * @example
 * ```ts
 * const tools = makeTools(createClient({ baseUrl, token, sandbox: "demo" }));
 * const { output } = await tools.Bash.execute({ command: "echo hi" });
 * ```
 */
export function makeTools(client: LuminaToolsClient): LuminaTools {
  return {
    Read: define("Read", schemas.readInput, async (i, call) => {
      const r = await client.read(i.file_path, {
        ...compact({ offset: i.offset, limit: i.limit }),
        ...call,
      });
      if (r.type === "text") {
        const { content, totalLines, linesReturned } = r;
        return { type: "text", content, total_lines: totalLines, lines_returned: linesReturned };
      }
      if (r.type === "image") {
        return { type: "image", image: r.image, mime_type: r.mimeType, file_size: r.fileSize };
      }
      const pages = r.pages.map((p) => ({ page_number: p.pageNumber, text: p.text }));
      return { type: "pdf", pages, total_pages: r.totalPages };
    }),
    Write: define("Write", schemas.writeInput, async (i, call) => {
      const r = await client.write(i.file_path, i.content, call);
      return { message: r.message, bytes_written: r.bytesWritten, file_path: r.filePath };
    }),
    Edit: define("Edit", schemas.editInput, async (i, call) => {
      const options = compact({ replaceAll: i.replace_all });
      const r = await client.edit(i.file_path, i.old_string, i.new_string, { ...options, ...call });
      return { message: r.message, replacements: r.replacements, file_path: r.filePath };
    }),
    Glob: define("Glob", schemas.globInput, async (i, call) => {
      const r = await client.glob(i.pattern, { ...compact({ path: i.path }), ...call });
      const { matches, count, truncated } = r;
      return { matches, count, search_path: r.searchPath, truncated };
    }),
    Grep: define("Grep", schemas.grepInput, async (i, call) => {
      const options = compact({
        path: i.path,
        glob: i.glob,
        outputMode: i.output_mode,
        lineNumbers: i.line_numbers,
        after: i.after,
        before: i.before,
        context: i.context,
        fileType: i.file_type,
        caseInsensitive: i.case_insensitive,
        multiline: i.multiline,
      });
      const r = await client.grep(i.pattern, { ...options, ...call });
      // The model must be told when a bound cut the search short.
      const cut = r.truncated === undefined ? {} : { truncated: r.truncated };
      if (r.mode === "files_with_matches") {
        return { mode: r.mode, files: r.files, count: r.count, ...cut };
      }
      if (r.mode === "count") return { mode: r.mode, counts: r.counts, total: r.total, ...cut };
      const matches = r.matches.map((m) => ({
        file: m.file,
        line_number: m.lineNumber,
        line: m.line,
        before_context: m.beforeContext,
        after_context: m.afterContext,
      }));
      return { mode: "content", matches, total_matches: r.totalMatches, ...cut };
    }),
    Bash: define("Bash", schemas.bashInput, async (i, call) => {
      const options = compact({
        timeout: i.timeout,
        description: i.description,
        runInBackground: i.run_in_background,
      });
      const r = await client.bash(i.command, { ...options, ...call });
      const { output, killed, truncated } = r;
      return { output, exit_code: r.exitCode, killed, truncated, shell_id: r.shellId };
    }),
    BashOutput: define("BashOutput", schemas.bashOutputInput, async (i, call) => {
      const options = compact({ filter: i.filter, waitMs: i.wait_ms });
      const r = await client.bashOutput(i.bash_id, { ...options, ...call });
      return { output: r.output, status: r.status, exit_code: r.exitCode, cursor: r.cursor };
    }),
    KillBash: define("KillBash", schemas.killBashInput, async (i, call) => {
      const r = await client.killBash(i.shell_id, call);
      return { message: r.message, shell_id: r.shellId, status: r.status };
    }),
  };
}

function define<Name extends keyof LuminaTools, Input, Output>(
  name: Name,
  inputSchema: GenericSchema<Input>,
  run: (input: Input, call: ToolCallOptions) => Promise<Output>,
): LuminaTool<Name, Input, Output> {
  return {
    name,
    description: descriptions[name],
    inputSchema,
    jsonSchema: toToolJsonSchema(inputSchema),
    execute: async (input, options = {}) =>
      run(
        parseToolInput(name, inputSchema, input),
        options.signal ? { signal: options.signal } : {},
      ),
  };
}

/**
 * Validates a model's tool input against a schema. Top-level `null`s count as absent, since
 * some model APIs send `null` for optional arguments.
 *
 * @throws ToolInputError naming the offending field.
 */
export function parseToolInput<Input>(
  tool: string,
  schema: GenericSchema<Input>,
  input: unknown,
): Input {
  const cleaned =
    typeof input === "object" && input !== null && !Array.isArray(input)
      ? Object.fromEntries(Object.entries(input).filter(([, value]) => value !== null))
      : input;
  const result = safeParse(schema, cleaned);
  if (!result.success) throw new ToolInputError(tool, result.issues);
  return result.output;
}

function compact<T extends object>(value: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]?: Exclude<T[K], undefined>;
  };
}
