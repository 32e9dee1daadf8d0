/** Tool session rows and their read records. */
import type { RegistryDatabase } from "./database.ts";
import { guarded } from "./database.ts";

/** What the server remembers of a file a session has read: enough to tell if it changed since. */
export interface FileStamp {
  /** Modification time in nanoseconds, as a decimal string (bigint-safe). */
  mtimeNs: string;
  size: number;
  inode: number;
}

/** The read records of tool sessions; kept in the database, so they survive a server restart. */
export interface ReadRecordStore {
  get(sessionKey: string, path: string): FileStamp | undefined;
  set(sessionKey: string, path: string, stamp: FileStamp): void;
}

/** One tool session as the registry knows it. */
export interface ToolSessionRecord {
  /** The internal key; a fresh one each time an id starts afresh after expiry. */
  key: string;
  sessionId: string;
  user: string;
  sandboxId: string;
  /** Milliseconds since the epoch of the last tool call. */
  lastUsed: number;
}

/** The tool session registry. */
export interface ToolSessionStore {
  find(sessionId: string): ToolSessionRecord | undefined;
  /** Inserts a session unless its id is already taken (a concurrent first use won). */
  insert(record: ToolSessionRecord): void;
  touch(key: string, at: number): void;
  /** How many sessions a user has (live ones: expired sessions are removed). */
  countForUser(user: string): number;
  /** Sessions idle since before `cutoff` (ms since the epoch). */
  idleSince(cutoff: number): ToolSessionRecord[];
  /** Deletes one session and its read records. */
  remove(key: string): void;
  /** Deletes every session of a sandbox and their read records. */
  removeForSandbox(sandboxId: string): void;
}

interface SessionRow {
  key: string;
  session_id: string;
  user: string;
  sandbox_id: string;
  last_used: number;
}

function toRecord(row: SessionRow): ToolSessionRecord {
  return {
    key: row.key,
    sessionId: row.session_id,
    user: row.user,
    sandboxId: row.sandbox_id,
    lastUsed: row.last_used,
  };
}

/** Creates the tool session store. */
export function createToolSessionStore(db: RegistryDatabase): ToolSessionStore {
  const selectById = db.prepare("SELECT * FROM tool_sessions WHERE session_id = ?");
  const insertRow = db.prepare(
    "INSERT OR IGNORE INTO tool_sessions (key, session_id, user, sandbox_id, last_used) VALUES (?, ?, ?, ?, ?)",
  );
  const touchRow = db.prepare("UPDATE tool_sessions SET last_used = ? WHERE key = ?");
  const countUser = db.prepare("SELECT COUNT(*) AS n FROM tool_sessions WHERE user = ?");
  const selectIdle = db.prepare("SELECT * FROM tool_sessions WHERE last_used < ?");
  const deleteRow = db.prepare("DELETE FROM tool_sessions WHERE key = ?");
  const deleteReads = db.prepare("DELETE FROM read_records WHERE session_key = ?");
  const deleteSandboxReads = db.prepare(
    "DELETE FROM read_records WHERE session_key IN (SELECT key FROM tool_sessions WHERE sandbox_id = ?)",
  );
  const deleteSandboxRows = db.prepare("DELETE FROM tool_sessions WHERE sandbox_id = ?");
  const remove = db.transaction((key: string) => {
    deleteReads.run(key);
    deleteRow.run(key);
  });
  const removeForSandbox = db.transaction((sandboxId: string) => {
    deleteSandboxReads.run(sandboxId);
    deleteSandboxRows.run(sandboxId);
  });
  return {
    find: (sessionId) =>
      guarded(() => {
        const row = selectById.get(sessionId) as SessionRow | undefined;
        return row && toRecord(row);
      }),
    insert: (r) =>
      guarded(() => void insertRow.run(r.key, r.sessionId, r.user, r.sandboxId, r.lastUsed)),
    touch: (key, at) => guarded(() => void touchRow.run(at, key)),
    countForUser: (user) => guarded(() => (countUser.get(user) as { n: number }).n),
    idleSince: (cutoff) => guarded(() => (selectIdle.all(cutoff) as SessionRow[]).map(toRecord)),
    remove: (key) => guarded(() => remove(key)),
    removeForSandbox: (sandboxId) => guarded(() => removeForSandbox(sandboxId)),
  };
}

/** The read records of tool sessions, kept in the registry so they survive a restart. */
export function createReadRecordStore(db: RegistryDatabase): ReadRecordStore {
  const select = db.prepare(
    "SELECT mtime_ns, size, inode FROM read_records WHERE session_key = ? AND path = ?",
  );
  const upsert = db.prepare(
    `INSERT INTO read_records (session_key, path, mtime_ns, size, inode) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (session_key, path) DO UPDATE SET mtime_ns = excluded.mtime_ns, size = excluded.size, inode = excluded.inode`,
  );
  return {
    get(sessionKey: string, path: string): FileStamp | undefined {
      const row = guarded(
        () =>
          select.get(sessionKey, path) as
            | { mtime_ns: string; size: number; inode: number }
            | undefined,
      );
      return row && { mtimeNs: row.mtime_ns, size: row.size, inode: row.inode };
    },
    set(sessionKey: string, path: string, stamp: FileStamp): void {
      guarded(() => upsert.run(sessionKey, path, stamp.mtimeNs, stamp.size, stamp.inode));
    },
  };
}
