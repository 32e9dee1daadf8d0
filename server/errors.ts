/**
 * The server's own error: anything on the host side that should reach the client as a wire error
 * (`{ error: { code, message } }`) throws one. The in-sandbox agent has its own (`AgentError`);
 * its failures become `ServerError`s where their answers arrive (`sandbox/agent-connection.ts`).
 */
export class ServerError extends Error {
  override name = "ServerError" as const;
  /**
   * @param code A wire error code of CONTRACT §3 (`not_found`, `invalid_request`, …); the HTTP
   *   layer maps it to a status.
   * @param message What went wrong and what the user can do about it.
   */
  constructor(
    readonly code: string,
    message: string,
    /** The sandbox had the call when this happened: it may have been applied (exactly-once). */
    readonly mayHaveRun = false,
  ) {
    super(message);
  }
}
