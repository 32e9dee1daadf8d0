/**
 * What every server-side tool function gets from the HTTP layer: the started sandbox, the
 * caller's tool session, and the request's abort signal (aborted when the client hangs up).
 */
import type { SandboxRuntime } from "../sandbox/backend.ts";
import type { StartedCommands } from "../sessions/started-commands.ts";
import type { FileStamp, ReadRecordStore } from "../store/sessions.ts";

export type { FileStamp, ReadRecordStore };

/** The context of one tool call. */
export interface ToolContext {
  runtime: SandboxRuntime;
  /** The authenticated user the call is for: pools all users share are served per user. */
  user: string;
  /** The internal key of the (user, sandbox, tool session id) session. Unique per session. */
  sessionKey: string;
  /** The client's tool session id (what the `Lumina-Tool-Session` header said). */
  sessionId: string;
  reads: ReadRecordStore;
  /** The background commands this session started (server-side memory, per server and user). */
  started: StartedCommands;
  signal: AbortSignal;
}
