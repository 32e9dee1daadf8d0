/**
 * Snapshots of a local sandbox's `/home/user`, kept below `<dataDir>/snapshots/<id>/`: a copy of
 * the home's disk image (`disk.img`), or of the plain home directory (`home/`) for a sandbox
 * without a disk quota.
 *
 * Consistency: the sandbox's processes are frozen by the kernel's cgroup freezer while the copy
 * is taken (no signal they could see, new forks frozen too, unlike SIGSTOP of a process tree,
 * which parents can observe and which races with forks), and a mounted image is flushed with
 * syncfs first, so the copy is the home at one instant. `fsfreeze` alone would give a clean image
 * but not a plain directory; where no freezer exists (no cgroup) a mounted image is frozen with
 * `fsfreeze` instead (writers block for the copy's duration), and a running plain directory is
 * refused (see `createHomeSnapshots`); `--isolation none` copies it as it is.
 *
 * Cheap copies: images are copied sparse (`cp --sparse=always`: holes stay holes, so a snapshot
 * takes the blocks the home uses, not its quota), trees with `--reflink=auto` (shared extents on
 * btrfs or XFS). A fork moves its private snapshot into place instead of copying it again.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { ServerError } from "../errors.ts";
import type { SandboxBackend } from "./backend.ts";
import { diskImageOf, isMountPoint } from "./disk.ts";
import { checkRoomFor } from "./disk-room.ts";
import { type HostSandbox, homeDirOf, type StorageSteps } from "./storage.ts";

const run = promisify(execFile);
const toolEnv = { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" };
const tool = (name: string, args: string[]) => run(name, args, { env: toolEnv });
const snapshotIdPattern = /^[A-Za-z0-9_-]{1,100}$/;

/**
 * Freezes the sandbox's processes and resolves to the function that thaws them, or to
 * `undefined` when they run but cannot be frozen here. Absent: no process runs.
 */
export type FreezeProcesses = () => Promise<(() => Promise<void>) | undefined>;

/** The snapshot steps of one local backend. */
export interface HomeSnapshots {
  /** Copies the home of `sandbox` into snapshot `id`; resolves to the bytes it takes. */
  take(sandbox: HostSandbox, id: string, freeze?: FreezeProcesses): Promise<number>;
  /** Puts snapshot `id` in place as the home of a new sandbox (moved, not copied, with `move`). */
  restore(sandbox: HostSandbox, id: string, move: boolean): Promise<void>;
  /** Deletes snapshot `id` and its files (nothing if it is gone). */
  remove(id: string): Promise<void>;
}

/** The bytes `path` (a file or a tree) takes on disk. */
export async function allocatedBytes(path: string): Promise<number> {
  const { stdout } = await tool("du", ["-s", "-B1", path]);
  return Number.parseInt(stdout, 10) || 0;
}

/**
 * Creates the snapshot steps over `snapshotsDir`; `overcommit` as for disk images. Unless
 * `copyRunningTrees` (a development backend), a plain home whose processes run and cannot be
 * frozen is refused: root copying a tree its sandbox can change meanwhile could be led by a
 * swapped-in symlink to copy host files into the snapshot.
 */
export function createHomeSnapshots(
  snapshotsDir: string,
  overcommit: number,
  copyRunningTrees = false,
): HomeSnapshots {
  const dirOf = (id: string) => {
    if (!snapshotIdPattern.test(id)) throw new Error(`bad snapshot id ${JSON.stringify(id)}`);
    return join(snapshotsDir, id);
  };
  const fail = (action: string, error: unknown): never => {
    if (error instanceof ServerError) throw error;
    const detail = ((error as { stderr?: string }).stderr || String(error)).trim().split("\n")[0];
    throw new ServerError("unavailable", `the server could not ${action} (${detail}); try again`);
  };
  return {
    async take(sandbox, id, freeze) {
      const home = homeDirOf(sandbox);
      const image = diskImageOf(sandbox.storageDir);
      const source = existsSync(image) ? image : home;
      const partial = `${dirOf(id)}.partial`;
      await checkRoomFor(
        dirname(sandbox.storageDir),
        await allocatedBytes(source).catch(() => 0),
        overcommit,
        "a snapshot of this sandbox's home",
      );
      try {
        await mkdir(partial, { recursive: true, mode: 0o700 });
        const thaw = freeze ? await freeze() : async () => {};
        if (thaw === undefined && source === home && !copyRunningTrees) {
          throw new ServerError(
            "unavailable",
            "this server has no cgroup freezer, so the home of a running sandbox without a disk image cannot be snapshotted safely; ask the operator to enable the cgroup freezer or disk quotas",
          );
        }
        const mounted = source === image && (await isMountPoint(home));
        // Frozen processes write nothing, so a flush suffices; writers still running need fsfreeze.
        const fsFrozen = mounted && thaw === undefined;
        try {
          if (fsFrozen) await tool("fsfreeze", ["--freeze", home]);
          else if (mounted) await tool("sync", ["--file-system", home]);
          if (source === image)
            await tool("cp", ["--sparse=always", image, join(partial, "disk.img")]);
          // A sandbox never started has no home yet: the snapshot is empty, a restore starts fresh.
          else if (existsSync(home))
            await tool("cp", ["-a", "--reflink=auto", home, join(partial, "home")]);
        } finally {
          if (fsFrozen) await tool("fsfreeze", ["--unfreeze", home]).catch(() => {});
          await thaw?.();
        }
        // Renamed only when whole: a crash never leaves a half snapshot under its id.
        await rename(partial, dirOf(id));
        return await allocatedBytes(dirOf(id));
      } catch (error) {
        await rm(partial, { recursive: true, force: true }).catch(() => {});
        return fail("take the snapshot", error);
      }
    },
    async restore(sandbox, id, move) {
      const source = dirOf(id);
      const image = join(source, "disk.img");
      const hasImage = existsSync(image);
      if (!existsSync(source))
        throw new ServerError("not_found", "the files of this snapshot are missing on the server");
      if (!hasImage && !existsSync(join(source, "home"))) return; // An empty snapshot.
      const info = hasImage ? await stat(image) : undefined;
      const used = await allocatedBytes(source);
      // A restored image promises its whole size, as a new one does; a move adds only its holes.
      const needed = info ? (move ? Math.max(0, info.size - used) : info.size) : move ? 0 : used;
      await checkRoomFor(
        dirname(sandbox.storageDir),
        needed,
        overcommit,
        "a copy of this snapshot",
      );
      const target = hasImage ? diskImageOf(sandbox.storageDir) : homeDirOf(sandbox);
      const partial = `${target}.new`;
      try {
        if (move) await rename(hasImage ? image : join(source, "home"), partial);
        else if (hasImage) await tool("cp", ["--sparse=always", image, partial]);
        else await tool("cp", ["-a", "--reflink=auto", join(source, "home"), partial]);
        await rename(partial, target);
      } catch (error) {
        await rm(partial, { recursive: true, force: true }).catch(() => {});
        fail("restore the snapshot", error);
      }
    },
    async remove(id) {
      await rm(dirOf(id), { recursive: true, force: true });
      await rm(`${dirOf(id)}.partial`, { recursive: true, force: true }); // A crash mid-copy.
    },
  };
}

/** Gives every file of a restored home to the new sandbox's host uid (the snapshot's was another). */
export async function chownHome(sandbox: HostSandbox): Promise<void> {
  const owner = `${sandbox.hostUid}:${sandbox.hostUid}`;
  await tool("chown", ["-R", "--no-dereference", owner, homeDirOf(sandbox)]);
}

/** The snapshot methods of a local backend, over its storage steps. */
export function snapshotMethods(
  storage: StorageSteps,
  snapshots: HomeSnapshots,
  options: { owned: boolean; freezeOf: (id: string) => FreezeProcesses | undefined },
): Required<Pick<SandboxBackend, "snapshotHome" | "restoreHome" | "deleteSnapshot">> {
  return {
    snapshotHome: (spec, snapshotId) =>
      snapshots.take(storage.place(spec), snapshotId, options.freezeOf(spec.id)),
    async restoreHome(spec, snapshotId, consume) {
      const sandbox = storage.place(spec);
      await snapshots.restore(sandbox, snapshotId, consume);
      // Mounts a restored image; the files inside still belong to the source's uid.
      await storage.prepare(spec);
      if (options.owned) await chownHome(sandbox);
    },
    deleteSnapshot: (snapshotId) => snapshots.remove(snapshotId),
  };
}
