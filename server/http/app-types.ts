/** What the HTTP layer is built from. */

import type { MiddlewareHandler } from "hono";
import type { Authenticator } from "../auth/authenticate.ts";
import type { PreviewService } from "../previews/service.ts";
import type { SandboxService } from "../sandboxes/service.ts";
import type { SnapshotService } from "../sandboxes/snapshots.ts";
import type { ToolSessions } from "../sessions/tool-sessions.ts";
import type { ReadRecordStore } from "../store/sessions.ts";
import type { ConnectionGuard } from "./connections.ts";

/** Hono's environment: the authenticated user rides on the context. */
export interface AppEnv {
  /**
   * `user`: who called. `callTaken`: set when a call failed after its sandbox had it (the
   * sandbox stopped meanwhile), so its 503 is not "not taken" for the exactly-once record.
   */
  Variables: { user: string; callTaken?: boolean };
}

/** The services and settings the routes use. */
export interface AppServices {
  version: string;
  authenticator: Authenticator;
  sandboxes: SandboxService;
  snapshots: SnapshotService;
  previews: PreviewService;
  sessions: ToolSessions;
  reads: ReadRecordStore;
  /** The backend kind shown in a lease (`bubblewrap`, `none`). */
  backendKind: string;
  /** The largest request body accepted, in bytes. */
  bodyLimit: number;
  /** How often a long bash answer sends a keep-alive space, in ms. */
  heartbeatMs: number;
  /** Allowed CORS origins (`*` for any). */
  corsOrigins: string[];
  /** Tool calls in flight per user. */
  maxRequestsPerUser: number;
  /** Long-polls (`bash_output` with `wait_ms`) in flight per user. */
  maxLongPollsPerUser: number;
  /** Told which connections authenticated (absent when the app runs without a node server). */
  connections?: ConnectionGuard;
  /** Bytes of made but unsent (unread) answers per user; past it, 429. */
  maxAnswerBytesPerUser: number;
  /**
   * Makes a route exactly-once for requests with an `Idempotency-Key` (CONTRACT §13): a route
   * opts in by putting it before its handler, `app.post(path, services.idempotent, handler)`,
   * and reads its body from `c.req.raw` (which the middleware replaces). The body is read whole,
   * up to `bodyLimit`, before the record is made: a route whose bodies may be larger (a streamed
   * upload) needs a variant that spools them to disk (not written yet).
   */
  idempotent: MiddlewareHandler<AppEnv>;
  /** Cancels the user's keyed call still running under `key`, as a hang-up would have. */
  cancelCall: (user: string, key: string) => void;
  log: (line: string) => void;
}
