/**
 * bash, bash_output and kill_bash: wire-shaped bodies in, wire-shaped answers out. The shell
 * itself lives in the sandbox's agent (server/agent/shell/); these functions forward to it.
 * Agent failures arrive (converted by the agent connection) as `ServerError` with their wire
 * code and pass through unchanged.
 */
import { ServerError } from "../errors.ts";
import type { SandboxRuntime } from "../sandbox/backend.ts";
import type { ToolBody } from "./bodies.ts";
import type { ToolContext } from "./context.ts";

/** The validated body of `bash` (its request schema's output). */
export type BashBody = ToolBody<"bash">;
/** The validated body of `bash_output` (its request schema's output). */
export type BashOutputBody = ToolBody<"bash_output">;
/** The validated body of `kill_bash` (its request schema's output). */
export type KillBashBody = ToolBody<"kill_bash">;
export type BashStatus = "running" | "completed" | "killed" | "failed";

/** A foreground command's time limit when the caller sets none, in ms (CONTRACT §3). */
export const defaultBashTimeoutMs = 120_000;

/** 128 + SIGKILL: how a sandbox restart ends a background command. */
const killedExitCode = 137;

/** A number per sandbox run; a WeakMap so a stopped runtime is not kept alive by us. */
const runNumbers = new WeakMap<SandboxRuntime, number>();
let lastRun = 0;
function runOf(runtime: SandboxRuntime): number {
  let run = runNumbers.get(runtime);
  if (run === undefined) {
    run = ++lastRun;
    runNumbers.set(runtime, run);
  }
  return run;
}

/** The last cursor of an id started on an earlier run of the session's sandbox, if any. */
function killedByRestart(ctx: ToolContext, id: string, error: unknown): number | undefined {
  if (!(error instanceof ServerError) || error.code !== "not_found") return undefined;
  const known = ctx.started.get(id);
  // One runtime per sandbox at a time: another run means the one it started on has stopped.
  return known && known.run !== runOf(ctx.runtime) ? known.cursor : undefined;
}

/** Runs a command in the session's persistent shell (or starts it in the background). */
export async function runBash(
  ctx: ToolContext,
  body: BashBody,
): Promise<{
  output: string;
  exit_code: number;
  killed: boolean;
  truncated: boolean;
  shell_id: string;
}> {
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
  if (result.shellId) ctx.started.remember(result.shellId, { run: runOf(ctx.runtime), cursor: 0 });
  return {
    output: result.output,
    exit_code: result.exitCode,
    killed: result.killed,
    truncated: result.truncated,
    shell_id: result.shellId,
  };
}

/** Reads new output of a background command, long-polling up to `wait_ms`. */
export async function readBashOutput(
  ctx: ToolContext,
  body: BashOutputBody,
): Promise<{ output: string; status: BashStatus; exit_code: number | null; cursor: number }> {
  const run = runOf(ctx.runtime);
  const result = await ctx.runtime
    .call(
      "shell_output",
      {
        sessionKey: ctx.sessionKey,
        shellId: body.bash_id,
        ...(body.filter !== undefined ? { filter: body.filter } : {}),
        ...(body.cursor !== undefined ? { cursor: body.cursor } : {}),
        ...(body.wait_ms !== undefined ? { waitMs: body.wait_ms } : {}),
      },
      ctx.signal,
    )
    .catch((error: unknown) => {
      const cursor = killedByRestart(ctx, body.bash_id, error);
      if (cursor === undefined) throw error;
      return { output: "", status: "killed" as const, exitCode: killedExitCode, cursor };
    });
  if (ctx.started.get(body.bash_id)?.run === run) {
    ctx.started.remember(body.bash_id, { run, cursor: result.cursor });
  }
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
  const result = await ctx.runtime
    .call("shell_kill", { sessionKey: ctx.sessionKey, shellId: body.shell_id }, ctx.signal)
    .catch((error: unknown) => {
      if (killedByRestart(ctx, body.shell_id, error) === undefined) throw error;
      const message = `background command ${body.shell_id} was killed when the sandbox restarted`;
      return { message, status: "killed" as const };
    });
  return { message: result.message, shell_id: body.shell_id, status: result.status };
}
