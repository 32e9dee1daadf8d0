/**
 * The preview tokens of exposed ports, in their own table: they survive a restart of the server
 * until they expire, and go with a `closePort`, a restart or the destroy of their sandbox.
 */
import { randomBytes } from "node:crypto";
import type { RegistryDatabase } from "../store/database.ts";
import { guarded } from "../store/database.ts";

/** One exposed port. */
export interface PreviewRecord {
  /** 160 random bits as lowercase hex: a host-name label, case-insensitive by nature. */
  token: string;
  sandboxId: string;
  /** The owner of the sandbox. */
  user: string;
  port: number;
  /** Milliseconds since the epoch. */
  expiresAt: number;
}

/** The preview token table. */
export interface PreviewStore {
  /** Exposes `port` until `expiresAt`: a port exposed already keeps its token, with the new expiry. */
  expose(sandboxId: string, port: number, expiresAt: number, now: number): PreviewRecord;
  /** The sandbox's unexpired previews, by port. */
  list(sandboxId: string, now: number): PreviewRecord[];
  /** The unexpired preview of a token, while its sandbox exists. */
  find(token: string, now: number): PreviewRecord | undefined;
  /** Closes one port; whether it was exposed. */
  close(sandboxId: string, port: number): boolean;
  /** Revokes every preview of the sandbox (restart, destroy). */
  revokeSandbox(sandboxId: string): void;
}

const schema = `
CREATE TABLE IF NOT EXISTS preview_ports (
  token TEXT PRIMARY KEY,
  sandbox_id TEXT NOT NULL,
  port INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  UNIQUE (sandbox_id, port)
);`;

interface PreviewRow {
  token: string;
  sandbox_id: string;
  user: string;
  port: number;
  expires_at: number;
}

const toRecord = (row: PreviewRow): PreviewRecord => ({
  token: row.token,
  sandboxId: row.sandbox_id,
  user: row.user,
  port: row.port,
  expiresAt: row.expires_at,
});

/** Creates the table if needed and returns the store. */
export function createPreviewStore(db: RegistryDatabase): PreviewStore {
  db.exec(schema);
  // Joined with the sandbox: a preview of a sandbox being destroyed is never found.
  const select = `SELECT p.token, p.sandbox_id, s.user, p.port, p.expires_at FROM preview_ports p
    JOIN sandboxes s ON s.id = p.sandbox_id AND s.state = 'active'`;
  const byToken = db.prepare(`${select} WHERE p.token = ? AND p.expires_at > ?`);
  const bySandbox = db.prepare(
    `${select} WHERE p.sandbox_id = ? AND p.expires_at > ? ORDER BY p.port`,
  );
  const byPort = db.prepare(`${select} WHERE p.sandbox_id = ? AND p.port = ?`);
  const upsert = db.prepare(`INSERT INTO preview_ports (token, sandbox_id, port, expires_at)
    VALUES (?, ?, ?, ?) ON CONFLICT (sandbox_id, port) DO UPDATE SET expires_at = excluded.expires_at`);
  const deleteExpired = db.prepare("DELETE FROM preview_ports WHERE expires_at <= ?");
  const deletePort = db.prepare("DELETE FROM preview_ports WHERE sandbox_id = ? AND port = ?");
  const deleteSandbox = db.prepare("DELETE FROM preview_ports WHERE sandbox_id = ?");
  const expose = db.transaction(
    (sandboxId: string, port: number, expiresAt: number, now: number) => {
      // An expired token is never renewed: its URL may have been shared for a limited time.
      deleteExpired.run(now);
      upsert.run(randomBytes(20).toString("hex"), sandboxId, port, expiresAt);
      return toRecord(byPort.get(sandboxId, port) as PreviewRow);
    },
  );
  return {
    expose: (sandboxId, port, expiresAt, now) =>
      guarded(() => expose.immediate(sandboxId, port, expiresAt, now)),
    list: (sandboxId, now) =>
      guarded(() => (bySandbox.all(sandboxId, now) as PreviewRow[]).map(toRecord)),
    find: (token, now) =>
      guarded(() => {
        const row = byToken.get(token, now) as PreviewRow | undefined;
        return row && toRecord(row);
      }),
    close: (sandboxId, port) => guarded(() => deletePort.run(sandboxId, port).changes > 0),
    revokeSandbox: (sandboxId) => guarded(() => void deleteSandbox.run(sandboxId)),
  };
}
