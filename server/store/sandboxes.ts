/** Sandbox records: who owns which name and its storage id. */
import { randomBytes } from "node:crypto";
import { ServerError } from "../errors.ts";
import type { RegistryDatabase } from "./database.ts";
import { guarded } from "./database.ts";

/** One sandbox as the registry knows it. */
export interface SandboxRecord {
  /** The storage id (random hex; never derived from the user-facing name). */
  id: string;
  user: string;
  name: string;
  createdAt: string;
  eager: boolean;
}

/**
 * The sandbox registry. A record is `active` until its destroy starts, then `destroying` (no
 * longer found or listed, its name still taken) until `remove` deletes it.
 */
export interface SandboxStore {
  /**
   * Creates a record, or returns `undefined` when the user already has a sandbox of that name.
   * Throws `conflict` while a sandbox of that name is still being destroyed. `id` is a storage id
   * prepared beforehand (a warm environment); by default a new random one.
   */
  create(user: string, name: string, eager: boolean, id?: string): SandboxRecord | undefined;
  /** The user's active sandbox of that name. */
  get(user: string, name: string): SandboxRecord | undefined;
  /** The user's active sandboxes. */
  list(user: string): SandboxRecord[];
  /** Every user's active sandboxes (the server's start-up check). */
  listActive(): SandboxRecord[];
  /** Whether a record of that storage id exists (in any state). */
  has(id: string): boolean;
  /** The records whose destroy started but did not finish (a crash interrupted it). */
  listDestroying(): SandboxRecord[];
  /** Marks a record as being destroyed: from now on it is not found, only finished. */
  markDestroying(id: string): void;
  /** Deletes the record: only once its processes and storage are gone. */
  remove(id: string): void;
}

interface SandboxRow {
  id: string;
  user: string;
  name: string;
  created_at: string;
  eager: number;
}

function toRecord(row: SandboxRow): SandboxRecord {
  return {
    id: row.id,
    user: row.user,
    name: row.name,
    createdAt: row.created_at,
    eager: row.eager === 1,
  };
}

/** A new random storage id, never derived from a name. */
export function newSandboxId(): string {
  return randomBytes(12).toString("hex");
}

/** Creates the sandbox store. */
export function createSandboxStore(db: RegistryDatabase): SandboxStore {
  const selectAny = db.prepare("SELECT * FROM sandboxes WHERE user = ? AND name = ?");
  const selectOne = db.prepare(
    "SELECT * FROM sandboxes WHERE user = ? AND name = ? AND state = 'active'",
  );
  const selectAll = db.prepare(
    "SELECT * FROM sandboxes WHERE user = ? AND state = 'active' ORDER BY created_at, name",
  );
  const selectByState = db.prepare("SELECT * FROM sandboxes WHERE state = ? ORDER BY created_at");
  const insert = db.prepare(
    "INSERT INTO sandboxes (id, user, name, created_at, eager, state) VALUES (?, ?, ?, ?, ?, 'active')",
  );
  const markDestroying = db.prepare("UPDATE sandboxes SET state = 'destroying' WHERE id = ?");
  const del = db.prepare("DELETE FROM sandboxes WHERE id = ?");
  const selectId = db.prepare("SELECT 1 FROM sandboxes WHERE id = ?");
  const create = db.transaction((user: string, name: string, eager: boolean, id?: string) => {
    const existing = selectAny.get(user, name) as (SandboxRow & { state: string }) | undefined;
    if (existing?.state === "destroying") {
      throw new ServerError(
        "conflict",
        `your sandbox named '${name}' is still being destroyed; create it again in a moment`,
      );
    }
    if (existing) return undefined;
    const record: SandboxRecord = {
      id: id ?? newSandboxId(),
      user,
      name,
      createdAt: new Date().toISOString(),
      eager,
    };
    insert.run(record.id, user, name, record.createdAt, eager ? 1 : 0);
    return record;
  });
  const byState = (state: string) => (selectByState.all(state) as SandboxRow[]).map(toRecord);
  return {
    create: (user, name, eager, id) => guarded(() => create.immediate(user, name, eager, id)),
    get: (user, name) =>
      guarded(() => {
        const row = selectOne.get(user, name) as SandboxRow | undefined;
        return row && toRecord(row);
      }),
    list: (user) => guarded(() => (selectAll.all(user) as SandboxRow[]).map(toRecord)),
    listActive: () => guarded(() => byState("active")),
    has: (id) => guarded(() => selectId.get(id) !== undefined),
    listDestroying: () => guarded(() => byState("destroying")),
    markDestroying: (id) => guarded(() => void markDestroying.run(id)),
    remove: (id) => guarded(() => void del.run(id)),
  };
}
