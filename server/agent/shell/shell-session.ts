/**
 * A tool session's shell state inside the agent: one persistent shell (replaced when a command
 * ends it), its background commands, and a queue that runs its calls one at a time, in order.
 */
import { randomBytes } from "node:crypto";
import { readlinkSync } from "node:fs";
import type { AgentParams, AgentResult } from "../../shared/agent-protocol.ts";
import { AgentError, isProcessLimitError, processLimitError, saysForkFailed } from "../failure.ts";
import { BackgroundCommand } from "./background-command.ts";
import { PersistentShell } from "./persistent-shell.ts";
import { Transcript } from "./transcript.ts";

/** The output cap of a foreground command when the caller sets none. */
export const defaultMaxOutputChars = 30_000;

let sessionCount = 0;
const newTag = () => {
  sessionCount += 1;
  return `${process.pid}-${sessionCount}-${randomBytes(4).toString("hex")}`;
};

// A shell started before any session asked (a warm environment), taken by the first new session.
let spare: { tag: string; shell: PersistentShell } | undefined;

/** Starts the spare shell the next new session takes, unless there is one; true if it started. */
export function prepareSpareShell(): boolean {
  if (spare && !spare.shell.isEnded) return false;
  const tag = newTag();
  spare = { tag, shell: new PersistentShell(tag, shellEnvironment(), homeDirectory()) };
  return true;
}

export class ShellSession {
  private shell: PersistentShell | undefined;
  /** Said at the start of the next answer after a command ended the shell. */
  private resetNote = "";
  private queue: Promise<unknown> = Promise.resolve();
  private readonly tag: string;
  private closed = false;
  private transcript: Transcript | undefined;
  readonly background = new Map<string, BackgroundCommand>();

  constructor() {
    const taken = spare && !spare.shell.isEnded ? spare : undefined;
    spare = undefined;
    this.tag = taken?.tag ?? newTag();
    this.shell = taken?.shell;
  }

  /** True while any background command still runs. */
  get busy(): boolean {
    for (const command of this.background.values()) if (command.status === "running") return true;
    return false;
  }

  /** Runs `task` after every earlier call of this session has finished. */
  private serialize<T>(task: () => Promise<T>): Promise<T> {
    const result = this.queue.then(task, task);
    this.queue = result.catch(() => {});
    return result;
  }

  private liveShell(): PersistentShell {
    if (this.closed) {
      throw new AgentError(
        "unavailable",
        "the tool session ended while this call waited; try again",
      );
    }
    if (this.shell?.isEnded) this.shell = undefined;
    // A spare shell started before the session had its transcript.
    if (this.transcript) this.shell?.attachTranscript(this.transcript);
    this.shell ??= new PersistentShell(
      this.tag,
      shellEnvironment(),
      homeDirectory(),
      this.transcript,
    );
    return this.shell;
  }

  /** Runs a foreground command, or starts a background one from the shell's directory and environment. */
  run(params: AgentParams<"shell_run">, signal: AbortSignal): Promise<AgentResult<"shell_run">> {
    return this.serialize(async () => {
      // The caller hung up while this call waited its turn: don't start it at all.
      if (signal.aborted) throw new AgentError("unavailable", "the request was aborted");
      if (params.sessionId) this.transcript ??= new Transcript(params.sessionId);
      const shell = this.liveShell();
      if (params.background) return this.startBackground(shell, params.command, signal);
      const result = await shell
        .run(params.command, {
          timeoutMs: params.timeoutMs,
          maxOutputChars: params.maxOutputChars ?? defaultMaxOutputChars,
          signal,
        })
        .catch(startFailure("the shell of this tool session"));
      const note = this.resetNote;
      this.resetNote = result.shellEnded
        ? `[lumina: the previous command ended the shell (exit code ${result.exitCode}); this is a new shell, so environment variables, the working directory, aliases and functions were reset]\n`
        : "";
      return {
        output: note + result.output,
        exitCode: result.exitCode,
        killed: result.killed,
        truncated: result.truncated,
        shellId: "",
      };
    });
  }

  private async startBackground(
    shell: PersistentShell,
    command: string,
    signal: AbortSignal,
  ): Promise<AgentResult<"shell_run">> {
    // The shell prints its directory and exported environment, NUL-separated.
    const probe = await shell
      .run(`builtin printf '%s\\0' "$PWD"; /usr/bin/env -0`, {
        timeoutMs: 10_000,
        maxOutputChars: 16 * 1024 * 1024,
        signal,
        internal: true,
      })
      .catch(startFailure("the shell of this tool session"));
    if (saysForkFailed(probe.output)) throw processLimitError("the background command");
    if (probe.killed || probe.shellEnded || probe.exitCode !== 0) {
      throw new AgentError(
        "internal",
        "could not read the shell's directory and environment; try again",
      );
    }
    const [cwd, ...entries] = probe.output.split("\0");
    const env: NodeJS.ProcessEnv = {};
    for (const entry of entries) {
      const equals = entry.indexOf("=");
      if (equals > 0) env[entry.slice(0, equals)] = entry.slice(equals + 1);
    }
    const id = `bash_${randomBytes(8).toString("hex")}`;
    const started = new BackgroundCommand(id, command, {
      cwd: cwd || safeCwd(shell.pid),
      env: { ...env, LUMINA_SESSION: this.tag },
    });
    await started.spawned.catch(startFailure("the background command"));
    this.background.set(id, started);
    this.transcript?.command(`${command}  # in the background as ${id}`);
    return { output: "", exitCode: 0, killed: false, truncated: false, shellId: id };
  }

  /** The session's background command by id, or a 404 naming it. */
  find(shellId: string): BackgroundCommand {
    const command = this.background.get(shellId);
    if (!command) {
      throw new AgentError(
        "not_found",
        `no background command ${shellId} in this tool session (ids come from bash with run_in_background; they end with the session or a sandbox restart)`,
      );
    }
    return command;
  }

  /** Ends the shell and every background command (status `killed`). */
  async end(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.background.values()].map((command) => command.kill()));
    await this.shell?.stop();
    this.shell = undefined;
    this.transcript?.close();
  }
}

/** Turns a failed start at the sandbox's process limit into its 503; rethrows anything else. */
function startFailure(what: string): (error: unknown) => never {
  return (error) => {
    throw isProcessLimitError(error) ? processLimitError(what) : error;
  };
}

function safeCwd(pid: number | undefined): string {
  try {
    return readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    return homeDirectory();
  }
}

function homeDirectory(): string {
  const { HOME } = process.env;
  return HOME || "/";
}

function shellEnvironment(): NodeJS.ProcessEnv {
  const { PATH } = process.env;
  return { ...process.env, PATH: PATH ?? "/usr/local/bin:/usr/bin:/bin" };
}
