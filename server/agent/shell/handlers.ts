/** The shell engine's agent methods: one `ShellSession` per server tool session. */

import type { AgentHandlers } from "../../shared/agent-protocol.ts";
import type { ShellMethods } from "../../shared/shell-protocol.ts";
import { AgentError } from "../failure.ts";
import { prepareSpareShell, ShellSession } from "./shell-session.ts";

const sessions = new Map<string, ShellSession>();

function sessionFor(sessionKey: string): ShellSession {
  let session = sessions.get(sessionKey);
  if (!session) {
    session = new ShellSession();
    sessions.set(sessionKey, session);
  }
  return session;
}

/** The shell handlers, by method name. */
export const shellHandlers: AgentHandlers<keyof ShellMethods> = {
  shell_run: (params, signal) => sessionFor(params.sessionKey).run(params, signal),

  shell_output: async (params, signal) => {
    const command = sessionFor(params.sessionKey).find(params.shellId);
    if (params.cursor !== undefined && params.cursor > command.outputLength) {
      throw new AgentError(
        "invalid_request",
        `cursor ${params.cursor} is past the end of the output (${command.outputLength} bytes so far); pass a cursor from an earlier answer`,
      );
    }
    return command.read(
      { cursor: params.cursor, filter: params.filter, waitMs: params.waitMs ?? 0 },
      signal,
    );
  },

  shell_kill: async (params) => {
    const command = sessionFor(params.sessionKey).find(params.shellId);
    if (command.status !== "running") {
      await command.kill(); // Still sweep up anything it left behind.
      return {
        message: `${params.shellId} had already ended (${command.status}); nothing to kill`,
        status: command.status,
      };
    }
    await command.kill();
    return {
      message: `killed ${params.shellId} and every process it started`,
      status: command.status,
    };
  },

  shell_end: async (params) => {
    const session = sessions.get(params.sessionKey);
    if (!session) return { ended: false };
    sessions.delete(params.sessionKey);
    await session.end();
    return { ended: true };
  },

  shell_busy: async (params) => ({ busy: sessions.get(params.sessionKey)?.busy ?? false }),

  shell_prepare: async () => ({ prepared: prepareSpareShell() }),

  shell_any_busy: async () => ({ busy: [...sessions.values()].some((session) => session.busy) }),
};
