/**
 * The storage ids of prepared (warm) environments, in their own table, so a server that stopped
 * without cleaning up finds and removes them at its next start.
 */
import type { RegistryDatabase } from "./database.ts";
import { guarded } from "./database.ts";

/** The warm pool's table. */
export interface WarmPoolStore {
  add(id: string): void;
  remove(id: string): void;
  all(): string[];
}

/** Creates the table if needed and returns its store. */
export function createWarmPoolStore(db: RegistryDatabase): WarmPoolStore {
  db.exec("CREATE TABLE IF NOT EXISTS warm_pool (id TEXT PRIMARY KEY, created_at TEXT NOT NULL)");
  const add = db.prepare("INSERT OR IGNORE INTO warm_pool (id, created_at) VALUES (?, ?)");
  const remove = db.prepare("DELETE FROM warm_pool WHERE id = ?");
  const all = db.prepare("SELECT id FROM warm_pool ORDER BY created_at");
  return {
    add: (id) => guarded(() => void add.run(id, new Date().toISOString())),
    remove: (id) => guarded(() => void remove.run(id)),
    all: () => guarded(() => (all.all() as { id: string }[]).map((row) => row.id)),
  };
}
