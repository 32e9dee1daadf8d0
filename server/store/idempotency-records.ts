/**
 * The outcomes of calls sent with an `Idempotency-Key` (CONTRACT §13), one row per (user, key),
 * in their own table of the registry so that completed outcomes survive a restart.
 */
import type { RegistryDatabase } from "./database.ts";
import { guarded } from "./database.ts";

/** What identifies the request a key was first used for. */
export interface KeyedRequest {
  method: string;
  /** The path with its query string. */
  path: string;
  /** The SHA-256 of the request body, hex. */
  bodyDigest: string;
}

/** The answer recorded for a key. */
export interface RecordedAnswer {
  status: number;
  contentType: string | null;
  /** The body as sent (keep-alive spaces removed); `null` when it was too large to keep. */
  body: string | null;
  /** The answer's size in bytes and its SHA-256 (hex), kept also when the body is not. */
  bodySize: number;
  answerDigest: string;
}

/** One row: the request, and its answer once the call has completed. */
export interface IdempotencyRecord extends KeyedRequest {
  state: "running" | "complete";
  /** Milliseconds since the epoch when the key was first used. */
  createdAt: number;
  answer: RecordedAnswer | undefined;
}

/** The table of keyed outcomes. */
export interface IdempotencyRecordStore {
  find(user: string, key: string): IdempotencyRecord | undefined;
  /** Records a key as running; false when the key is already there (another request won). */
  start(user: string, key: string, request: KeyedRequest, sessionId: string, at: number): boolean;
  complete(user: string, key: string, answer: RecordedAnswer): void;
  /** Forgets a key, so that its next use runs the call afresh. */
  remove(user: string, key: string): void;
  /** Completes every key still running (left by a server that died) with `answer`. */
  completeRunning(answer: RecordedAnswer): number;
  /** Deletes completed keys first used before `cutoff`; returns how many. */
  removeCompletedBefore(cutoff: number): number;
}

const schema = `
CREATE TABLE IF NOT EXISTS idempotency_records (
  user TEXT NOT NULL,
  key TEXT NOT NULL,
  method TEXT NOT NULL,
  path TEXT NOT NULL,
  body_digest TEXT NOT NULL,
  session_id TEXT NOT NULL,
  state TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  status INTEGER,
  content_type TEXT,
  body TEXT,
  body_size INTEGER,
  answer_digest TEXT,
  PRIMARY KEY (user, key)
);
CREATE INDEX IF NOT EXISTS idempotency_records_created ON idempotency_records (created_at);
`;

interface Row {
  method: string;
  path: string;
  body_digest: string;
  state: "running" | "complete";
  created_at: number;
  status: number | null;
  content_type: string | null;
  body: string | null;
  body_size: number | null;
  answer_digest: string | null;
}

/** Creates the table if needed and returns its store. */
export function createIdempotencyRecordStore(db: RegistryDatabase): IdempotencyRecordStore {
  db.exec(schema);
  const find = db.prepare("SELECT * FROM idempotency_records WHERE user = ? AND key = ?");
  const insert = db.prepare(
    `INSERT OR IGNORE INTO idempotency_records
       (user, key, method, path, body_digest, session_id, state, created_at)
     VALUES (?, ?, ?, ?, ?, ?, 'running', ?)`,
  );
  const answerColumns =
    "state = 'complete', status = @status, content_type = @contentType, body = @body, body_size = @bodySize, answer_digest = @answerDigest";
  const complete = db.prepare(
    `UPDATE idempotency_records SET ${answerColumns} WHERE user = @user AND key = @key`,
  );
  const completeRunning = db.prepare(
    `UPDATE idempotency_records SET ${answerColumns} WHERE state = 'running'`,
  );
  const remove = db.prepare("DELETE FROM idempotency_records WHERE user = ? AND key = ?");
  const removeBefore = db.prepare(
    "DELETE FROM idempotency_records WHERE state = 'complete' AND created_at < ?",
  );
  return {
    find(user, key) {
      const row = guarded(() => find.get(user, key)) as Row | undefined;
      if (!row) return undefined;
      return {
        method: row.method,
        path: row.path,
        bodyDigest: row.body_digest,
        state: row.state,
        createdAt: row.created_at,
        answer:
          row.state === "complete"
            ? {
                status: row.status ?? 500,
                contentType: row.content_type,
                body: row.body,
                bodySize: row.body_size ?? 0,
                answerDigest: row.answer_digest ?? "",
              }
            : undefined,
      };
    },
    start(user, key, request, sessionId, at) {
      const { method, path, bodyDigest } = request;
      return (
        guarded(() => insert.run(user, key, method, path, bodyDigest, sessionId, at)).changes === 1
      );
    },
    complete(user, key, answer) {
      guarded(() => complete.run({ user, key, ...answer }));
    },
    remove(user, key) {
      guarded(() => remove.run(user, key));
    },
    completeRunning: (answer) => guarded(() => completeRunning.run(answer)).changes,
    removeCompletedBefore: (cutoff) => guarded(() => removeBefore.run(cutoff)).changes,
  };
}
