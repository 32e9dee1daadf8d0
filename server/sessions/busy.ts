/**
 * Whether a tool session still has background commands running (such a session never
 * expires). Uses the shell engine's `sessionIsBusy` when server/tools/bash.ts exports it;
 * until then every session counts as idle.
 */
import type { SandboxRuntime } from "../sandbox/backend.ts";
import * as bash from "../tools/bash.ts";

type BusyCheck = (ctx: { runtime: SandboxRuntime; sessionKey: string }) => Promise<boolean>;

const shellEngineCheck = (bash as unknown as { sessionIsBusy?: BusyCheck }).sessionIsBusy;

/** Whether the session has running background commands. */
export function sessionBusy(ctx: {
  runtime: SandboxRuntime;
  sessionKey: string;
}): Promise<boolean> {
  return shellEngineCheck ? shellEngineCheck(ctx) : Promise.resolve(false);
}
