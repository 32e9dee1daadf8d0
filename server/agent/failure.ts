import type { AgentFailure } from "./protocol.ts";

/** A failure thrown by an agent handler; it crosses to the server as `{ code, message }`. */
export class AgentError extends Error implements AgentFailure {
  override name = "AgentError" as const;
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
