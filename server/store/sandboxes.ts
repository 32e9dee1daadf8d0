/** Sandbox records: who owns which name, its storage id and its dedicated host uid. */
import { randomBytes } from "node:crypto";
import { AgentError } from "../agent/failure.ts";
import type { RegistryDatabase } from "./database.ts";
import { guarded } from "./database.ts";

/** One sandbox as the registry knows it. */
export interface SandboxRecord {
  /** The storage id (random hex; never derived from the user-facing name). */
  id: string;
  user: string;
  name: string;
  hostUid: number;
  createdAt: string;
  eager: boolean;
}

/**
 * The sandbox registry. A record is `active` until its destroy starts, then `destroying` (no
 * longer found or listed, its host uid still reserved) until `remove` deletes it.
 */
export interface SandboxStore {
  /**
   * Creates a record, or returns `undefined` when the user already has a sandbox of that name.
   * Throws `conflict` while a sandbox of that name is still being destroyed.
   */
  create(user: string, name: string, eager: boolean): SandboxRecord | undefined;
  /** The user's active sandbox of that name. */
  get(user: string, name: string): SandboxRecord | undefined;
  /** The user's active sandboxes. */
  list(user: string): SandboxRecord[];
  /** Every user's active sandboxes (the server's start-up check). */
  listActive(): SandboxRecord[];
  /** The records whose destroy started but did not finish (a crash interrupted it). */
  listDestroying(): SandboxRecord[];
  /** Marks a record as being destroyed: from now on it is not found, only finished. */
  markDestroying(id: string): void;
  /** The host uid a record holds (active or destroying); `undefined` once it is removed. */
  hostUidOf(id: string): number | undefined;
  /** Deletes the record and frees its host uid: only once its processes and storage are gone. */
  remove(id: string): void;
}

interface SandboxRow {
  id: string;
  user: string;
  name: string;
  host_uid: number;
  created_at: string;
  eager: number;
}

function toRecord(row: SandboxRow): SandboxRecord {
  return {
    id: row.id,
    user: row.user,
    name: row.name,
    hostUid: row.host_uid,
    createdAt: row.created_at,
    eager: row.eager === 1,
  };
}

/** How many host uids one data directory may hand out: one block of 65536. */
export const hostUidBlockSize = 65_536;

/**
 * Creates the sandbox store. A new sandbox gets the lowest uid of
 * `[hostUidBase, hostUidBase + hostUidCount)` that no record holds. A record keeps its uid until
 * `remove`, which runs only once the sandbox's processes and files are gone, so a reused uid
 * never owns anything of its previous sandbox. Past the range lies another data directory's
 * block: with every uid held, creating a sandbox is refused (503).
 */
export function createSandboxStore(
  db: RegistryDatabase,
  hostUidBase: number,
  hostUidCount = hostUidBlockSize,
): SandboxStore {
  const selectAny = db.prepare("SELECT * FROM sandboxes WHERE user = ? AND name = ?");
  const selectOne = db.prepare(
    "SELECT * FROM sandboxes WHERE user = ? AND name = ? AND state = 'active'",
  );
  const selectAll = db.prepare(
    "SELECT * FROM sandboxes WHERE user = ? AND state = 'active' ORDER BY created_at, name",
  );
  const selectByState = db.prepare("SELECT * FROM sandboxes WHERE state = ? ORDER BY created_at");
  const insert = db.prepare(
    "INSERT INTO sandboxes (id, user, name, host_uid, created_at, eager, state) VALUES (?, ?, ?, ?, ?, ?, 'active')",
  );
  const markDestroying = db.prepare("UPDATE sandboxes SET state = 'destroying' WHERE id = ?");
  const del = db.prepare("DELETE FROM sandboxes WHERE id = ?");
  const selectUid = db.prepare("SELECT host_uid FROM sandboxes WHERE id = ?");
  // The lowest uid of the range that no record holds: the base itself or just above a held one.
  const lowestFreeUid = db.prepare(`
    SELECT MIN(candidate) AS uid FROM (
      SELECT @base AS candidate
      UNION ALL
      SELECT host_uid + 1 FROM sandboxes WHERE host_uid >= @base AND host_uid < @end
    ) WHERE candidate < @end AND candidate NOT IN (SELECT host_uid FROM sandboxes)`);
  const end = hostUidBase + hostUidCount;
  const create = db.transaction((user: string, name: string, eager: boolean) => {
    const existing = selectAny.get(user, name) as (SandboxRow & { state: string }) | undefined;
    if (existing?.state === "destroying") {
      throw new AgentError(
        "conflict",
        `your sandbox named '${name}' is still being destroyed; create it again in a moment`,
      );
    }
    if (existing) return undefined;
    const free = lowestFreeUid.get({ base: hostUidBase, end }) as { uid: number | null };
    if (free.uid === null) {
      throw new AgentError(
        "unavailable",
        `no sandbox host uid left: all ${hostUidCount} uids of this server's block (from ${hostUidBase}) belong to existing sandboxes; destroy sandboxes no longer needed, or an operator can start the server on a fresh block with --host-uid-base`,
      );
    }
    const record: SandboxRecord = {
      id: randomBytes(12).toString("hex"),
      user,
      name,
      hostUid: free.uid,
      createdAt: new Date().toISOString(),
      eager,
    };
    insert.run(record.id, user, name, record.hostUid, record.createdAt, eager ? 1 : 0);
    return record;
  });
  const byState = (state: string) => (selectByState.all(state) as SandboxRow[]).map(toRecord);
  return {
    create: (user, name, eager) => guarded(() => create.immediate(user, name, eager)),
    get: (user, name) =>
      guarded(() => {
        const row = selectOne.get(user, name) as SandboxRow | undefined;
        return row && toRecord(row);
      }),
    list: (user) => guarded(() => (selectAll.all(user) as SandboxRow[]).map(toRecord)),
    listActive: () => guarded(() => byState("active")),
    listDestroying: () => guarded(() => byState("destroying")),
    markDestroying: (id) => guarded(() => void markDestroying.run(id)),
    hostUidOf: (id) =>
      guarded(() => (selectUid.get(id) as { host_uid: number } | undefined)?.host_uid),
    remove: (id) => guarded(() => void del.run(id)),
  };
}
