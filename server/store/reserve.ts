/**
 * The registry's reserve: free pages kept inside the SQLite file itself. SQLite reuses free
 * pages before it grows the file, so while the reserve lasts the registry writes into blocks it
 * already owns, even when sandbox disk images have filled the data filesystem. A separate
 * reserve file would have to be deleted to help, and a filling sandbox would take that space
 * back at once; these pages no one else can take.
 */
import type Database from "better-sqlite3";

/** The registry's reserve when none is configured, in bytes. */
export const defaultRegistryReserve = 16 * 1024 ** 2;

// Written in pieces, each its own transaction, so the WAL checkpoints instead of growing by the whole reserve.
const pieceBytes = 1024 ** 2;

/** Whether a SQLite error means the disk had no room. */
export function isDiskFull(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && code.startsWith("SQLITE_FULL");
}

/**
 * Tops the free pages of the registry up to `bytes` once less than half is left. Where the
 * disk is already full it keeps what it could add. Returns the reserve's size afterwards.
 */
export function keepRegistryReserve(db: Database.Database, bytes: number): number {
  const pageSize = db.pragma("page_size", { simple: true }) as number;
  const reserve = () => (db.pragma("freelist_count", { simple: true }) as number) * pageSize;
  const before = reserve();
  if (before >= bytes / 2) return before;
  db.exec("CREATE TABLE IF NOT EXISTS registry_reserve (filler BLOB NOT NULL)");
  const insert = db.prepare("INSERT INTO registry_reserve (filler) VALUES (zeroblob(?))");
  try {
    for (let missing = bytes - before; missing > 0; missing -= pieceBytes) {
      insert.run(Math.min(pieceBytes, missing));
    }
  } catch (error) {
    if (!isDiskFull(error)) throw error;
  } finally {
    // Freed, the filler's pages stay in the file as free pages: that is the reserve.
    db.exec("DELETE FROM registry_reserve");
  }
  return reserve();
}
