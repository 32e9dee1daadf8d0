/**
 * Snapshots and forks as users see them (CONTRACT §12): records in the registry's `snapshots`
 * table, files kept by the backend. Every lookup is scoped to the caller, so another user's
 * snapshot is simply not found. A snapshot outlives its sandbox and survives restarts.
 */
import { ServerError } from "../errors.ts";
import type { SandboxRecord } from "../store/sandboxes.ts";
import type { SnapshotRecord, SnapshotStore } from "../store/snapshots.ts";
import type { CreateSandboxRequest, SandboxControl, SandboxService } from "./service.ts";

/** A snapshot on the wire. */
export interface SnapshotView {
  id: string;
  sandbox: string;
  label: string | null;
  created_at: string;
  size_bytes: number;
}

/** The snapshot operations, scoped by user. */
export interface SnapshotService {
  /** Snapshots the user's sandbox (409 past the cap). */
  take(user: string, sandbox: SandboxRecord, label: string | null): Promise<SnapshotRecord>;
  list(user: string): SnapshotRecord[];
  /** The user's snapshot of that id; 404 otherwise (also when another user has one). */
  find(user: string, id: string): SnapshotRecord;
  remove(record: SnapshotRecord): Promise<void>;
  /** Creates a sandbox whose home is the user's snapshot `id`. */
  createFrom(
    user: string,
    name: string,
    request: Omit<CreateSandboxRequest, "seed">,
    id: string,
  ): Promise<SandboxRecord>;
  /** Creates `name` from the current state of the user's sandbox `source`. */
  fork(user: string, source: SandboxRecord, name: string, eager: boolean): Promise<SandboxRecord>;
  /** Deletes every snapshot of `user` (a removed user). */
  removeAllOf(user: string): Promise<void>;
  /** Deletes what a stop of the server left half-made (before the server serves). */
  recover(): Promise<void>;
  view(record: SnapshotRecord): SnapshotView;
}

/** Snapshots one user may keep, unless configured. */
export const defaultMaxSnapshotsPerUser = 32;

/** Creates the snapshot service. */
export function createSnapshotService(options: {
  store: SnapshotStore;
  sandboxes: SandboxService;
  control: Pick<SandboxControl, "deleteSnapshot">;
  /** @default defaultMaxSnapshotsPerUser */
  maxPerUser?: number;
  log?: (line: string) => void;
}): SnapshotService {
  const { store, sandboxes, control } = options;
  const most = options.maxPerUser ?? defaultMaxSnapshotsPerUser;
  const log = options.log ?? (() => {});
  // Snapshots being copied into a new sandbox: deleting one then would cut the copy short.
  const inUse = new Map<string, number>();
  const use = async <T>(id: string, work: () => Promise<T>): Promise<T> => {
    inUse.set(id, (inUse.get(id) ?? 0) + 1);
    try {
      return await work();
    } finally {
      const left = (inUse.get(id) ?? 1) - 1;
      if (left > 0) inUse.set(id, left);
      else inUse.delete(id);
    }
  };
  // Snapshots whose files are being deleted: a create from one would copy half a tree.
  const deleting = new Set<string>();
  const drop = async (id: string) => {
    deleting.add(id);
    try {
      await control.deleteSnapshot(id);
      store.remove(id);
    } finally {
      deleting.delete(id);
    }
  };
  /** Copies the sandbox's home under a new record (`ready` after, unless a fork's); a failure removes it. */
  const capture = async (record: SnapshotRecord, source: SandboxRecord, ready: boolean) => {
    try {
      const bytes = await sandboxes.snapshotHome(source, record.id);
      if (ready) store.finish(record.id, bytes);
    } catch (error) {
      await drop(record.id).catch(() => {});
      throw error;
    }
  };
  const find = (user: string, id: string) => {
    const record = store.get(user, id);
    if (!record || deleting.has(id))
      throw new ServerError("not_found", `no snapshot with id '${id}'; list yours`);
    return record;
  };
  return {
    async take(user, sandbox, label) {
      const record = store.begin(user, sandbox.name, label, "taking", most);
      if (!record) {
        throw new ServerError(
          "conflict",
          `you already have ${most} snapshots, the most one user may keep; delete one you no longer need, then snapshot again`,
        );
      }
      await capture(record, sandbox, true);
      return find(user, record.id);
    },
    list: (user) => store.list(user),
    find,
    async remove(record) {
      if (inUse.has(record.id)) {
        throw new ServerError(
          "conflict",
          "a sandbox is being created from this snapshot; delete it once that create finished",
        );
      }
      await drop(record.id);
    },
    createFrom: (user, name, request, id) =>
      use(find(user, id).id, () =>
        sandboxes.create(user, name, { ...request, seed: { snapshotId: id, consume: false } }),
      ),
    async fork(user, source, name, eager) {
      // A private snapshot, uncounted and never listed, that the new sandbox's home takes over.
      // Checked first, so a taken name does not cost a whole copy of the home.
      if (sandboxes.list(user).some((sandbox) => sandbox.name === name)) {
        throw new ServerError(
          "sandbox_exists",
          `you already have a sandbox named '${name}'; pick another name for the fork`,
        );
      }
      const record = store.begin(user, source.name, null, "fork", most);
      if (!record) throw new Error("a fork's snapshot record could not be made");
      await capture(record, source, false);
      try {
        return await sandboxes.create(user, name, {
          eager,
          seed: { snapshotId: record.id, consume: true },
        });
      } finally {
        await drop(record.id).catch((error: unknown) =>
          log(`snapshot ${record.id}: removing a fork's snapshot failed: ${String(error)}`),
        );
      }
    },
    async removeAllOf(user) {
      for (const id of store.idsOf(user)) if (!inUse.has(id)) await drop(id);
    },
    async recover() {
      for (const id of store.listUnfinished()) {
        await drop(id).catch((error: unknown) =>
          log(`snapshot ${id}: removing a half-made snapshot failed: ${String(error)}`),
        );
      }
    },
    view: (record) => ({
      id: record.id,
      sandbox: record.sandbox,
      label: record.label,
      created_at: record.createdAt,
      size_bytes: record.sizeBytes,
    }),
  };
}
