import { type BaseIssue, getDotPath } from "valibot";
import { isNamed, LuminaError } from "../errors.ts";

/**
 * The error a tool's `execute` rejects with when its input fails the schema, as a model's
 * malformed call does. `field` names the first offending field, `issues` lists every problem.
 */
export class ToolInputError extends LuminaError {
  override name = "ToolInputError" as const;
  /** The code the adapters report to the model. */
  readonly code = "invalid_input" as const;
  /** The tool whose input failed. */
  readonly tool: string;
  /** The first offending field (a dot path), or `""` when the input is not an object at all. */
  readonly field: string;
  /** Every problem found, one `field: message` line each. */
  readonly issues: string[];

  constructor(tool: string, issues: readonly BaseIssue<unknown>[]) {
    const lines = issues.map(describeIssue);
    super(`Invalid input for ${tool}: ${lines.join("; ")}`);
    this.tool = tool;
    this.field = issues[0] ? (getDotPath(issues[0]) ?? "") : "";
    this.issues = lines;
  }
}

/** Whether `value` is a {@link ToolInputError}, also one from another realm. */
export function isToolInputError(value: unknown): value is ToolInputError {
  return isNamed(value, "ToolInputError");
}

function describeIssue(issue: BaseIssue<unknown>): string {
  const path = getDotPath(issue);
  if (issue.received === "undefined" && path) return `${path}: required field is missing`;
  if (issue.type === "strict_object" && path) return `${path}: unknown field, remove it`;
  return path ? `${path}: ${issue.message}` : issue.message;
}

/** A failed tool call described for a model: what went wrong and what to do about it. */
export interface ToolFailure {
  /** The server's error code (`not_read`, `no_match`, …), `invalid_input`, or the error's name. */
  code: string;
  /** The HTTP status, when the server answered. */
  status?: number;
  /** The error's own message. */
  message: string;
  /** What the model should do next. */
  hint: string;
}

const hints: Record<string, string> = {
  invalid_input: "Fix the named field and call the tool again.",
  not_read: "Read the file with the Read tool first, then retry the write or edit.",
  stale_read: "The file changed since you read it: Read it again, then retry.",
  no_match: "Read the file and copy old_string exactly, whitespace included, without line numbers.",
  ambiguous_match:
    "Add surrounding lines to old_string so it is unique, or set replace_all to true.",
  no_change: "old_string and new_string are the same: nothing to do.",
  invalid_path: "Use an absolute path under /home/user, e.g. /home/user/app.py.",
  not_found: "Check the path or id; use Glob to find files, Bash to list background commands.",
  unsupported_file: "This binary file cannot be read as text; inspect it with Bash (file, xxd).",
  payload_too_large: "Write the content in smaller pieces: a first Write, then Edits.",
  disk_full: "The sandbox's disk is full: delete files it no longer needs with Bash, then retry.",
  rate_limited: "Wait a few seconds and retry.",
  unavailable: "The sandbox service is busy: wait a few seconds and retry.",
};

/** Describes any rejection of a tool call (a `ToolError`, invalid input, a network failure). */
export function describeToolFailure(error: unknown): ToolFailure {
  const fields = (typeof error === "object" && error !== null ? error : {}) as {
    code?: unknown;
    statusCode?: unknown;
    name?: unknown;
  };
  const message = error instanceof Error ? error.message : String(error);
  const code =
    typeof fields.code === "string"
      ? fields.code
      : typeof fields.name === "string"
        ? fields.name
        : "error";
  const failure: ToolFailure = {
    code,
    message,
    hint: hints[code] ?? "Check the arguments, then retry or try another approach.",
  };
  if (typeof fields.statusCode === "number") failure.status = fields.statusCode;
  return failure;
}

/**
 * Formats a rejection of a tool call as the one text a model reads in an error result, e.g.
 * `Error not_read (409): … What to do: Read the file with the Read tool first, …`.
 */
export function formatToolFailure(error: unknown): string {
  const { code, status, message, hint } = describeToolFailure(error);
  return `Error ${code}${status === undefined ? "" : ` (${status})`}: ${message}\nWhat to do: ${hint}`;
}
