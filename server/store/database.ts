/**
 * The server's registry: one SQLite file (`<data>/lumina.db`) for users, API keys, sandboxes,
 * tool sessions and read records. Migrations are idempotent `CREATE … IF NOT EXISTS`. The file
 * keeps a reserve of free pages (server/store/reserve.ts) so a full data disk does not stop it.
 */
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { ServerError } from "../errors.ts";
import { defaultRegistryReserve, isDiskFull, keepRegistryReserve } from "./reserve.ts";

/** An open registry database. */
export type RegistryDatabase = Database.Database;

/** How long a writer waits for a lock held by another connection before giving up (ms). */
const busyTimeoutMs = 2_000;

const schema = `
CREATE TABLE IF NOT EXISTS users (
  name TEXT PRIMARY KEY,
  created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS api_keys (
  digest TEXT PRIMARY KEY,
  user TEXT NOT NULL REFERENCES users(name),
  created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS removed_users (
  name TEXT PRIMARY KEY,
  removed_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sandboxes (
  id TEXT PRIMARY KEY,
  user TEXT NOT NULL,
  name TEXT NOT NULL,
  created_at TEXT NOT NULL,
  eager INTEGER NOT NULL,
  state TEXT NOT NULL DEFAULT 'active',
  UNIQUE (user, name)
);
CREATE TABLE IF NOT EXISTS host_uids (
  sandbox_id TEXT PRIMARY KEY,
  host_uid INTEGER NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS tool_sessions (
  key TEXT PRIMARY KEY,
  session_id TEXT NOT NULL UNIQUE,
  user TEXT NOT NULL,
  sandbox_id TEXT NOT NULL,
  last_used INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS tool_sessions_sandbox ON tool_sessions (sandbox_id);
CREATE INDEX IF NOT EXISTS tool_sessions_user ON tool_sessions (user);
CREATE TABLE IF NOT EXISTS read_records (
  session_key TEXT NOT NULL,
  path TEXT NOT NULL,
  mtime_ns TEXT NOT NULL,
  size INTEGER NOT NULL,
  inode INTEGER NOT NULL,
  PRIMARY KEY (session_key, path)
);
`;

/**
 * Opens (creating if needed) the registry in `dataDir`, brings its schema up to date and tops up
 * its reserve of free pages to `reserveBytes`.
 */
export function openRegistry(
  dataDir: string,
  reserveBytes: number = defaultRegistryReserve,
): RegistryDatabase {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  // Only the server may read the registry (the data dir is traversable by sandbox uids). SQLite
  // gives the -wal and -shm files the database file's mode, so that is set before they exist.
  const path = join(dataDir, "lumina.db");
  closeSync(openSync(path, "a", 0o600));
  chmodSync(path, 0o600);
  const db = new Database(path, { timeout: busyTimeoutMs });
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.pragma(`busy_timeout = ${busyTimeoutMs}`);
  db.exec(schema);
  addMissingColumns(db);
  moveHostUids(db);
  // Side files left by an older server, created before the database file was private.
  for (const side of ["-wal", "-shm", "-journal"]) {
    if (existsSync(path + side)) chmodSync(path + side, 0o600);
  }
  keepRegistryReserve(db, reserveBytes);
  return db;
}

/** Brings tables made by an older server up to the columns of `schema`. */
function addMissingColumns(db: RegistryDatabase): void {
  const columns = db.prepare("PRAGMA table_info(sandboxes)").all() as { name: string }[];
  if (!columns.some((column) => column.name === "state")) {
    db.exec("ALTER TABLE sandboxes ADD COLUMN state TEXT NOT NULL DEFAULT 'active'");
  }
}

/**
 * Moves the host uids of a registry made by an older server out of `sandboxes` into the
 * backends' own `host_uids` table, in one transaction (SQLite cannot drop a UNIQUE column, so
 * `sandboxes` is rebuilt).
 */
function moveHostUids(db: RegistryDatabase): void {
  const columns = db.prepare("PRAGMA table_info(sandboxes)").all() as { name: string }[];
  if (!columns.some((column) => column.name === "host_uid")) return;
  db.transaction(() => {
    db.exec(`
      INSERT OR IGNORE INTO host_uids (sandbox_id, host_uid) SELECT id, host_uid FROM sandboxes;
      CREATE TABLE sandboxes_moved (
        id TEXT PRIMARY KEY,
        user TEXT NOT NULL,
        name TEXT NOT NULL,
        created_at TEXT NOT NULL,
        eager INTEGER NOT NULL,
        state TEXT NOT NULL DEFAULT 'active',
        UNIQUE (user, name)
      );
      INSERT INTO sandboxes_moved (id, user, name, created_at, eager, state)
        SELECT id, user, name, created_at, eager, state FROM sandboxes;
      DROP TABLE sandboxes;
      ALTER TABLE sandboxes_moved RENAME TO sandboxes;`);
  }).immediate();
}

/**
 * Runs a registry operation, turning a database that stayed locked past the busy timeout
 * into a 503 the client can retry, and a full disk into a 507, instead of a 500.
 */
export function guarded<T>(operation: () => T): T {
  try {
    return operation();
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    if (
      typeof code === "string" &&
      (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED"))
    ) {
      throw new ServerError("unavailable", "the server's registry is busy; try again shortly");
    }
    if (isDiskFull(error)) {
      throw new ServerError(
        "disk_full",
        "the server's data disk is full, so it cannot record this call; try again later, and tell the server's operator to free disk space",
      );
    }
    throw error;
  }
}
