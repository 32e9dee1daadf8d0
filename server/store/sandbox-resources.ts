/** The resources each sandbox asked for at creation (CONTRACT §12), in their own table. */
import type { RegistryDatabase } from "./database.ts";
import { guarded } from "./database.ts";

/** What a sandbox asked for; an absent field takes the server's default. */
export interface ResourceRequest {
  /** CPU time in cores (fractions allowed). */
  cpus?: number | undefined;
  /** Memory of all its processes together, in MiB. */
  memoryMb?: number | undefined;
  /** The size of `/home/user`, in MiB. */
  diskMb?: number | undefined;
}

/** The resources table. */
export interface SandboxResourceStore {
  put(sandboxId: string, request: ResourceRequest): void;
  /** What the sandbox asked for (empty when it asked for nothing). */
  get(sandboxId: string): ResourceRequest;
  remove(sandboxId: string): void;
}

interface ResourceRow {
  cpus: number | null;
  memory_mb: number | null;
  disk_mb: number | null;
}

/** Creates the table if needed and returns its store. */
export function createSandboxResourceStore(db: RegistryDatabase): SandboxResourceStore {
  db.exec(`CREATE TABLE IF NOT EXISTS sandbox_resources (
    sandbox_id TEXT PRIMARY KEY,
    cpus REAL,
    memory_mb INTEGER,
    disk_mb INTEGER
  )`);
  const put = db.prepare(
    "INSERT OR REPLACE INTO sandbox_resources (sandbox_id, cpus, memory_mb, disk_mb) VALUES (?, ?, ?, ?)",
  );
  const get = db.prepare(
    "SELECT cpus, memory_mb, disk_mb FROM sandbox_resources WHERE sandbox_id = ?",
  );
  const remove = db.prepare("DELETE FROM sandbox_resources WHERE sandbox_id = ?");
  return {
    put: (id, request) =>
      guarded(
        () =>
          void put.run(id, request.cpus ?? null, request.memoryMb ?? null, request.diskMb ?? null),
      ),
    get(id) {
      const row = guarded(() => get.get(id) as ResourceRow | undefined);
      const request: ResourceRequest = {};
      if (row?.cpus != null) request.cpus = row.cpus;
      if (row?.memory_mb != null) request.memoryMb = row.memory_mb;
      if (row?.disk_mb != null) request.diskMb = row.disk_mb;
      return request;
    },
    remove: (id) => guarded(() => void remove.run(id)),
  };
}
