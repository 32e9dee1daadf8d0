/**
 * Snapshot records, in their own table of the registry: who owns which snapshot, of which
 * sandbox, and how big it is. A record is `taking` while its files are copied (it counts against
 * the cap then, so concurrent snapshots cannot slip past it), `ready` after, and `fork` for the
 * private snapshot a fork moves into its new sandbox; a restart deletes whatever is not `ready`.
 */
import { randomBytes } from "node:crypto";
import type { RegistryDatabase } from "./database.ts";
import { guarded } from "./database.ts";

/** One snapshot as the registry knows it. */
export interface SnapshotRecord {
  /** The snapshot id (random; also the name of its files on the backend). */
  id: string;
  user: string;
  /** The name of the sandbox it was taken of (which may be gone since). */
  sandbox: string;
  label: string | null;
  createdAt: string;
  sizeBytes: number;
}

/** The snapshot registry. */
export interface SnapshotStore {
  /**
   * Records a new snapshot as `taking` (or `fork`), unless the user already has `most` snapshots
   * that count (`taking` or `ready`); count and insert are one transaction.
   */
  begin(
    user: string,
    sandbox: string,
    label: string | null,
    kind: "taking" | "fork",
    most: number,
  ): SnapshotRecord | undefined;
  /** Marks a taken snapshot `ready`, with its size. */
  finish(id: string, sizeBytes: number): void;
  /** The user's ready snapshot of that id. */
  get(user: string, id: string): SnapshotRecord | undefined;
  /** The user's ready snapshots, oldest first. */
  list(user: string): SnapshotRecord[];
  /** The ids of records left unfinished by a stop of the server. */
  listUnfinished(): string[];
  /** The ids of every snapshot of `user`, whatever its state (remove-user). */
  idsOf(user: string): string[];
  remove(id: string): void;
}

interface SnapshotRow {
  id: string;
  user: string;
  sandbox: string;
  label: string | null;
  created_at: string;
  size_bytes: number;
}

const schema = `
CREATE TABLE IF NOT EXISTS snapshots (
  id TEXT PRIMARY KEY,
  user TEXT NOT NULL,
  sandbox TEXT NOT NULL,
  label TEXT,
  created_at TEXT NOT NULL,
  size_bytes INTEGER NOT NULL DEFAULT 0,
  state TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS snapshots_user ON snapshots (user);
`;

function toRecord(row: SnapshotRow): SnapshotRecord {
  const { created_at: createdAt, size_bytes: sizeBytes, ...rest } = row;
  return { ...rest, createdAt, sizeBytes };
}

/** Creates the snapshot store (and its table, if new). */
export function createSnapshotStore(db: RegistryDatabase): SnapshotStore {
  db.exec(schema);
  const columns = "id, user, sandbox, label, created_at, size_bytes";
  const count = db.prepare(
    "SELECT COUNT(*) AS n FROM snapshots WHERE user = ? AND state IN ('taking', 'ready')",
  );
  const insert = db.prepare(
    "INSERT INTO snapshots (id, user, sandbox, label, created_at, state) VALUES (?, ?, ?, ?, ?, ?)",
  );
  const finish = db.prepare("UPDATE snapshots SET state = 'ready', size_bytes = ? WHERE id = ?");
  const selectOne = db.prepare(
    `SELECT ${columns} FROM snapshots WHERE user = ? AND id = ? AND state = 'ready'`,
  );
  const selectAll = db.prepare(
    `SELECT ${columns} FROM snapshots WHERE user = ? AND state = 'ready' ORDER BY created_at, id`,
  );
  const unfinished = db.prepare("SELECT id FROM snapshots WHERE state != 'ready'");
  const idsOf = db.prepare("SELECT id FROM snapshots WHERE user = ?");
  const del = db.prepare("DELETE FROM snapshots WHERE id = ?");
  const begin = db.transaction(
    (user: string, sandbox: string, label: string | null, kind: string, most: number) => {
      if (kind === "taking" && (count.get(user) as { n: number }).n >= most) return undefined;
      const record: SnapshotRecord = {
        id: `snap_${randomBytes(12).toString("hex")}`,
        user,
        sandbox,
        label,
        createdAt: new Date().toISOString(),
        sizeBytes: 0,
      };
      insert.run(record.id, user, sandbox, label, record.createdAt, kind);
      return record;
    },
  );
  const ids = (rows: unknown[]) => (rows as { id: string }[]).map((row) => row.id);
  return {
    begin: (user, sandbox, label, kind, most) =>
      guarded(() => begin.immediate(user, sandbox, label, kind, most)),
    finish: (id, sizeBytes) => guarded(() => void finish.run(sizeBytes, id)),
    get: (user, id) =>
      guarded(() => {
        const row = selectOne.get(user, id) as SnapshotRow | undefined;
        return row && toRecord(row);
      }),
    list: (user) => guarded(() => (selectAll.all(user) as SnapshotRow[]).map(toRecord)),
    listUnfinished: () => guarded(() => ids(unfinished.all())),
    idsOf: (user) => guarded(() => ids(idsOf.all(user))),
    remove: (id) => guarded(() => void del.run(id)),
  };
}
