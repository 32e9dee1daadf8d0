import { ownFields } from "../internal/options.ts";
import {
  type BashOutputResult,
  type BashResult,
  type KillBashResult,
  toBashOutputResult,
  toBashResult,
  toKillBashResult,
} from "../protocol/bash.ts";
import { type CallOptions, type Requester, toolCaller } from "../request.ts";

/** The options of `bash`. */
export interface BashOptions extends CallOptions {
  /**
   * The command's timeout in milliseconds (1–600000); past it the command is killed, with exit
   * code 124. A foreground call's HTTP timeout is this plus a 15 s margin (a background call's,
   * the margin alone), unless `requestTimeout` is longer.
   * @default 120000
   */
  timeout?: number | undefined;
  /** What the command does, for the server's log. */
  description?: string | undefined;
  /**
   * Whether to start the command in the background and answer at once with its `shellId`.
   * @default false
   */
  runInBackground?: boolean | undefined;
}

/** The options of `bashOutput`. */
export interface BashOutputOptions extends CallOptions {
  /** Only complete lines containing this substring. */
  filter?: string | undefined;
  /**
   * The byte offset to read from, as returned by the previous answer. Without it the session's
   * own position is used; with it a retried poll neither loses nor repeats output, so only then
   * is the call retried.
   */
  cursor?: number | undefined;
  /**
   * How long the server may hold the answer while nothing new is there (0–30000 ms). The call's
   * HTTP timeout is this plus a 15 s margin, unless `requestTimeout` is longer.
   * @default 0
   */
  waitMs?: number | undefined;
}

/** The options of `killBash`: the call options alone. */
export interface KillBashOptions extends CallOptions {}

/** The shell methods of a client. */
export interface BashMethods {
  /**
   * Runs a command in the session's persistent shell.
   *
   * @example
   * ```ts
   * const { output, exitCode } = await lumina.bash("npm test", { timeout: 300_000 });
   * ```
   */
  bash(command: string, options?: BashOptions): Promise<BashResult>;
  /** Returns the new output of a background command. */
  bashOutput(shellId: string, options?: BashOutputOptions): Promise<BashOutputResult>;
  /** Kills a background command and everything it started. */
  killBash(shellId: string, options?: KillBashOptions): Promise<KillBashResult>;
}

/** How many background commands' positions a client remembers (the oldest are forgotten). */
const REMEMBERED = 1000;

/**
 * Creates the shell methods over `request`. Each background command's position in `positions`
 * follows what the session read of it: 0 when started, then each `bashOutput` answer's cursor
 * (the server moves the session's position there too).
 */
export function createBashMethods(
  request: Requester,
  sandbox: string,
  positions: Map<string, number> = new Map(),
): BashMethods {
  const tool = toolCaller(request, sandbox);
  const remember = (shellId: string, cursor: number): void => {
    positions.delete(shellId);
    positions.set(shellId, cursor);
    if (positions.size > REMEMBERED) positions.delete(positions.keys().next().value as string);
  };
  return {
    // A background command answers at once: only a foreground one takes its timeout.
    bash: async (command, options = {}) => {
      const fields = ownFields("bash", options, ["timeout", "description", "runInBackground"]);
      const { timeout, runInBackground } = options;
      const result = await tool({
        name: "bash",
        body: { command, ...fields },
        parse: toBashResult,
        options,
        busyFor: runInBackground ? 0 : (timeout ?? 120_000),
      });
      if (result.shellId) remember(result.shellId, 0);
      return result;
    },
    bashOutput: async (bashId, options = {}) => {
      const fields = ownFields("bashOutput", options, ["filter", "cursor", "waitMs"]);
      const { cursor, waitMs } = options;
      const result = await tool({
        name: "bash_output",
        body: { bashId, ...fields },
        parse: toBashOutputResult,
        options,
        idempotent: cursor !== undefined,
        busyFor: waitMs ?? 0,
      });
      remember(bashId, result.cursor);
      return result;
    },
    killBash: async (shellId, options = {}) => {
      ownFields("killBash", options);
      return tool({ name: "kill_bash", body: { shellId }, parse: toKillBashResult, options });
    },
  };
}
