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

/** The sandbox registry. */
export interface SandboxStore {
  /** Creates a record, or returns `undefined` when the user already has a sandbox of that name. */
  create(user: string, name: string, eager: boolean): SandboxRecord | undefined;
  get(user: string, name: string): SandboxRecord | undefined;
  list(user: string): SandboxRecord[];
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
 * Creates the sandbox store. Host uids come from `hostUidBase` upwards through a counter that
 * only grows, so a uid is never handed to a second sandbox (not even after the first is gone).
 * The counter never leaves `[hostUidBase, hostUidBase + hostUidCount)`: past it lies another data
 * directory's block, so creating a sandbox is refused (503) once the block is used up.
 */
export function createSandboxStore(
  db: RegistryDatabase,
  hostUidBase: number,
  hostUidCount = hostUidBlockSize,
): SandboxStore {
  const selectOne = db.prepare("SELECT * FROM sandboxes WHERE user = ? AND name = ?");
  const selectAll = db.prepare("SELECT * FROM sandboxes WHERE user = ? ORDER BY created_at, name");
  const insert = db.prepare(
    "INSERT INTO sandboxes (id, user, name, host_uid, created_at, eager) VALUES (?, ?, ?, ?, ?, ?)",
  );
  const del = db.prepare("DELETE FROM sandboxes WHERE id = ?");
  const readCounter = db.prepare("SELECT value FROM counters WHERE name = 'host_uid'");
  const writeCounter = db.prepare(
    "INSERT INTO counters (name, value) VALUES ('host_uid', ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
  );
  const create = db.transaction((user: string, name: string, eager: boolean) => {
    if (selectOne.get(user, name)) return undefined;
    const counter = readCounter.get() as { value: number } | undefined;
    const hostUid = Math.max(counter?.value ?? 0, hostUidBase);
    if (hostUid >= hostUidBase + hostUidCount) {
      throw new AgentError(
        "unavailable",
        `no sandbox host uid left: all ${hostUidCount} uids of this server's block (from ${hostUidBase}) are used; an operator can pin a fresh block with the hostUidBase option`,
      );
    }
    writeCounter.run(hostUid + 1);
    const record: SandboxRecord = {
      id: randomBytes(12).toString("hex"),
      user,
      name,
      hostUid,
      createdAt: new Date().toISOString(),
      eager,
    };
    insert.run(record.id, user, name, hostUid, record.createdAt, eager ? 1 : 0);
    return record;
  });
  return {
    create: (user, name, eager) => guarded(() => create.immediate(user, name, eager)),
    get: (user, name) =>
      guarded(() => {
        const row = selectOne.get(user, name) as SandboxRow | undefined;
        return row && toRecord(row);
      }),
    list: (user) => guarded(() => (selectAll.all(user) as SandboxRow[]).map(toRecord)),
    remove: (id) => guarded(() => void del.run(id)),
  };
}
