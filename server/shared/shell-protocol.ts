/**
 * The shell methods of the agent. Every call names the server's tool session (`sessionKey`):
 * each session has its own persistent shell and its own background commands.
 */

/** The life stage of a background command, as the wire reports it. */
export type BackgroundStatus = "running" | "completed" | "failed" | "killed";

interface SessionParams {
  sessionKey: string;
}

/** The shell engine's agent methods, by name: `{ params, result }`. */
export type ShellMethods = {
  /** Runs a command in the session's shell, or starts it in the background. */
  shell_run: {
    params: SessionParams & {
      command: string;
      /** Foreground only: the command's time limit. */
      timeoutMs: number;
      /** Foreground only: the output cap in characters. */
      maxOutputChars?: number;
      background?: boolean;
      /** The client's tool session id: names the session's live transcript in the sandbox. */
      sessionId?: string;
    };
    result: {
      output: string;
      exitCode: number;
      killed: boolean;
      /** Whether the output cap cut the middle of the output. */
      truncated: boolean;
      shellId: string;
    };
  };
  /** Reads a background command's output. */
  shell_output: {
    params: SessionParams & {
      shellId: string;
      filter?: string;
      cursor?: number;
      waitMs?: number;
    };
    result: { output: string; status: BackgroundStatus; exitCode: number | null; cursor: number };
  };
  /** Kills a background command and everything it started. */
  shell_kill: {
    params: SessionParams & { shellId: string };
    result: { message: string; status: BackgroundStatus };
  };
  /** Ends a session's shell and background commands. */
  shell_end: { params: SessionParams; result: { ended: boolean } };
  /** Whether a session has background commands still running (keeps it from expiring). */
  shell_busy: { params: SessionParams; result: { busy: boolean } };
  /** Whether any session has a background command still running (keeps the sandbox from idling). */
  shell_any_busy: { params: Record<string, never>; result: { busy: boolean } };
  /** Starts a spare shell for the next new session (a warm environment's first call skips the spawn). */
  shell_prepare: { params: Record<string, never>; result: { prepared: boolean } };
};
