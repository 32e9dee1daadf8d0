import * as v from "valibot";
import { parseAnswer } from "./parse.ts";

/** The result of `bash`. A non-zero `exitCode` is data, not an error. */
export interface BashResult {
  /** stdout and stderr combined, unchanged (trailing newline kept). */
  output: string;
  /** The exit code (124 when the command timed out). */
  exitCode: number;
  /** Whether the command was killed for running past its timeout. */
  killed: boolean;
  /** Whether the output cap cut the middle of the output (a marker in `output` says how much). */
  truncated: boolean;
  /** The id of a background command (`bash_…`); `""` otherwise. */
  shellId: string;
}

/** The state of a background command. */
export type BashStatus = "running" | "completed" | "killed" | "failed";

/** One chunk of a background command's output. */
export interface BashOutputResult {
  /** The new output this answer covers. */
  output: string;
  /** The command's state. */
  status: BashStatus;
  /** The exit code, `null` while running. */
  exitCode: number | null;
  /** The byte offset in the command's output after this chunk: pass it back to resume there. */
  cursor: number;
}

/** The result of `killBash`. */
export interface KillBashResult {
  /** What happened, for a person. */
  message: string;
  /** The background command's id. */
  shellId: string;
  /** Its state afterwards. */
  status: BashStatus;
}

const status = v.picklist(["running", "completed", "killed", "failed"]);
const bash = v.object({
  output: v.string(),
  exit_code: v.number(),
  killed: v.boolean(),
  truncated: v.boolean(),
  shell_id: v.string(),
});
const bashOutput = v.object({
  output: v.string(),
  status,
  exit_code: v.nullable(v.number()),
  cursor: v.number(),
});
const killBash = v.object({ message: v.string(), shell_id: v.string(), status });

/** The answer schemas of the shell tools, by tool name (the wire's single definition). */
export const bashAnswers: Readonly<Record<"bash" | "bash_output" | "kill_bash", v.GenericSchema>> =
  { bash, bash_output: bashOutput, kill_bash: killBash };

/** Validates and maps the answer of the `bash` tool. */
export function toBashResult(body: unknown): BashResult {
  return parseAnswer<BashResult, typeof bash>(bash, body, "bash");
}

/** Validates and maps the answer of the `bash_output` tool. */
export function toBashOutputResult(body: unknown): BashOutputResult {
  return parseAnswer<BashOutputResult, typeof bashOutput>(bashOutput, body, "bash_output");
}

/** Validates and maps the answer of the `kill_bash` tool. */
export function toKillBashResult(body: unknown): KillBashResult {
  return parseAnswer<KillBashResult, typeof killBash>(killBash, body, "kill_bash");
}
