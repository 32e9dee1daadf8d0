/**
 * Each sandbox's idle timeout and last activity, in their own table, so a sandbox idle across a
 * restart of the server keeps its schedule (CONTRACT §12). Written throttled by server/sandboxes/idle.ts.
 */
import type { RegistryDatabase } from "./database.ts";
import { guarded } from "./database.ts";

/** One sandbox's idle settings as stored. */
export interface SandboxActivityRow {
  sandboxId: string;
  /** Idle time in ms after which it stops; 0: never. */
  idleTimeoutMs: number;
  /** Milliseconds since the epoch of its last activity. */
  lastActivityMs: number;
}

/** The activity table. */
export interface SandboxActivityStore {
  /** Inserts or replaces a sandbox's row. */
  put(row: SandboxActivityRow): void;
  /** Stores a newer last activity. */
  touch(sandboxId: string, at: number): void;
  /** Every row. */
  all(): SandboxActivityRow[];
  remove(sandboxId: string): void;
}

/** Creates the table if needed and returns its store. */
export function createSandboxActivityStore(db: RegistryDatabase): SandboxActivityStore {
  db.exec(`CREATE TABLE IF NOT EXISTS sandbox_activity (
    sandbox_id TEXT PRIMARY KEY,
    idle_timeout_ms INTEGER NOT NULL,
    last_activity_ms INTEGER NOT NULL
  )`);
  const put = db.prepare(
    "INSERT OR REPLACE INTO sandbox_activity (sandbox_id, idle_timeout_ms, last_activity_ms) VALUES (?, ?, ?)",
  );
  const touch = db.prepare(
    "UPDATE sandbox_activity SET last_activity_ms = MAX(last_activity_ms, ?) WHERE sandbox_id = ?",
  );
  const all = db.prepare(
    "SELECT sandbox_id AS sandboxId, idle_timeout_ms AS idleTimeoutMs, last_activity_ms AS lastActivityMs FROM sandbox_activity",
  );
  const remove = db.prepare("DELETE FROM sandbox_activity WHERE sandbox_id = ?");
  return {
    put: (row) => guarded(() => void put.run(row.sandboxId, row.idleTimeoutMs, row.lastActivityMs)),
    touch: (sandboxId, at) => guarded(() => void touch.run(at, sandboxId)),
    all: () => guarded(() => all.all() as SandboxActivityRow[]),
    remove: (sandboxId) => guarded(() => void remove.run(sandboxId)),
  };
}
