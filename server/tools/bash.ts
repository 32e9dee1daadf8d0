/**
 * bash, bash_output and kill_bash: wire-shaped bodies in, wire-shaped answers out. The shell
 * itself lives in the sandbox's agent (server/agent/shell/); these functions forward to it.
 * Agent failures arrive as `AgentError` with their wire code and pass through unchanged.
 */
import type { SandboxRuntime } from "../sandbox/backend.ts";
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

/** A foreground command's time limit when the caller sets none, in ms (CONTRACT §3). */
export const defaultBashTimeoutMs = 120_000;

/** Runs a command in the session's persistent shell (or starts it in the background). */
export async function runBash(
  ctx: ToolContext,
  body: BashBody,
): Promise<{ output: string; exit_code: number; killed: boolean; shell_id: string }> {
  const result = await ctx.runtime.call(
    "shell_run",
    {
      sessionKey: ctx.sessionKey,
      sessionId: ctx.sessionId,
      command: body.command,
      timeoutMs: body.timeout ?? defaultBashTimeoutMs,
      background: body.run_in_background === true,
    },
    ctx.signal,
  );
  return {
    output: result.output,
    exit_code: result.exitCode,
    killed: result.killed,
    shell_id: result.shellId,
  };
}

/** Reads new output of a background command, long-polling up to `wait_ms`. */
export async function readBashOutput(
  ctx: ToolContext,
  body: BashOutputBody,
): Promise<{ output: string; status: BashStatus; exit_code: number | null; cursor: number }> {
  const result = await ctx.runtime.call(
    "shell_output",
    {
      sessionKey: ctx.sessionKey,
      shellId: body.bash_id,
      ...(body.filter !== undefined ? { filter: body.filter } : {}),
      ...(body.cursor !== undefined ? { cursor: body.cursor } : {}),
      ...(body.wait_ms !== undefined ? { waitMs: body.wait_ms } : {}),
    },
    ctx.signal,
  );
  return {
    output: result.output,
    status: result.status,
    exit_code: result.exitCode,
    cursor: result.cursor,
  };
}

/** Kills a background command and everything it started. */
export async function killBash(
  ctx: ToolContext,
  body: KillBashBody,
): Promise<{ message: string; shell_id: string; status: BashStatus }> {
  const result = await ctx.runtime.call(
    "shell_kill",
    { sessionKey: ctx.sessionKey, shellId: body.shell_id },
    ctx.signal,
  );
  return { message: result.message, shell_id: body.shell_id, status: result.status };
}

/** Ends a tool session's shell and background commands (session expiry). */
export async function endShellSession(
  ctx: Pick<ToolContext, "runtime" | "sessionKey">,
): Promise<void> {
  await ctx.runtime.call("shell_end", { sessionKey: ctx.sessionKey });
}

/** Whether a tool session has background commands still running (such a session does not expire). */
export async function sessionIsBusy(ctx: {
  runtime: SandboxRuntime;
  sessionKey: string;
}): Promise<boolean> {
  const result = await ctx.runtime.call("shell_busy", { sessionKey: ctx.sessionKey });
  return result.busy;
}
