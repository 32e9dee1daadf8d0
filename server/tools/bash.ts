/** bash, bash_output and kill_bash: wire-shaped bodies in, wire-shaped answers out. Owned by the shell engine. */
import type { ToolContext } from "./context.ts";

export interface BashBody {
  command: string;
  timeout?: number;
  description?: string;
  run_in_background?: boolean;
}
export interface BashOutputBody {
  bash_id: string;
  filter?: string;
  cursor?: number;
  wait_ms?: number;
}
export interface KillBashBody {
  shell_id: string;
}
export type BashStatus = "running" | "completed" | "killed" | "failed";

/** Runs a command in the session's persistent shell (or starts it in the background). */
export async function runBash(
  _ctx: ToolContext,
  _body: BashBody,
): Promise<{ output: string; exit_code: number; killed: boolean; shell_id: string }> {
  throw new Error("runBash: not implemented yet");
}

/** Reads new output of a background command, long-polling up to `wait_ms`. */
export async function readBashOutput(
  _ctx: ToolContext,
  _body: BashOutputBody,
): Promise<{ output: string; status: BashStatus; exit_code: number | null; cursor: number }> {
  throw new Error("readBashOutput: not implemented yet");
}

/** Kills a background command and everything it started. */
export async function killBash(
  _ctx: ToolContext,
  _body: KillBashBody,
): Promise<{ message: string; shell_id: string; status: BashStatus }> {
  throw new Error("killBash: not implemented yet");
}

/** Ends a tool session's shell and background commands (session expiry). */
export async function endShellSession(_ctx: Omit<ToolContext, "signal" | "reads">): Promise<void> {}
