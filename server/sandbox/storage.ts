/**
 * A sandbox's persistent storage on the host: `<storageDir>/home`, owned by the sandbox's
 * dedicated host uid. The storage dir is 0700 and owned by that uid, so no other sandbox uid
 * can traverse into it. With a disk quota, `home` is the mount point of `<storageDir>/disk.img`
 * (server/sandbox/disk.ts).
 */
import { constants, existsSync, mkdirSync } from "node:fs";
import { access, chmod, chown, mkdir, rm, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { ServerError } from "../errors.ts";
import type { HostUidTable } from "../store/host-uids.ts";
import type { SandboxLimits, SandboxSpec } from "./backend.ts";
import type { DiskImages } from "./disk.ts";

const storageIdPattern = /^[A-Za-z0-9_-]{1,100}$/;

/** A sandbox placed on this host: where its storage lives and which host uid it runs as. */
export interface HostSandbox {
  /** The stable storage id of the sandbox. */
  id: string;
  /** The host directory that holds the sandbox's persistent storage (its home lives below). */
  storageDir: string;
  /** The dedicated unprivileged host uid (and gid) the sandbox's processes run as. */
  hostUid: number;
  limits: SandboxLimits;
}

/** How a local backend places sandboxes on this host. */
export interface HostPlacement {
  /** The host directory below which each sandbox's storage dir (named by its id) lives. */
  sandboxesDir: string;
  /**
   * The host directory below which each snapshot of a home (named by its id) lives.
   * @default `snapshots` beside `sandboxesDir`
   */
  snapshotsDir?: string;
  /** The host uid each sandbox holds, claimed by `create` and freed by `destroy`. */
  hostUids: HostUidTable;
}

/** The host directory of a sandbox's storage; refuses an id that is not a plain name. */
function storageDirOf(spec: SandboxSpec, placement: HostPlacement): string {
  if (!storageIdPattern.test(spec.id))
    throw new Error(`bad sandbox storage id ${JSON.stringify(spec.id)}`);
  return join(placement.sandboxesDir, spec.id);
}

/** Where a placement keeps its snapshots. */
export function snapshotsDirOf(placement: HostPlacement): string {
  return placement.snapshotsDir ?? join(dirname(placement.sandboxesDir), "snapshots");
}

/** The host storage dir and host uid of a sandbox; refuses an id without a uid. */
export function placeOnHost(spec: SandboxSpec, placement: HostPlacement): HostSandbox {
  const storageDir = storageDirOf(spec, placement);
  const hostUid = placement.hostUids.uidOf(spec.id);
  if (hostUid === undefined) {
    throw new ServerError(
      "unavailable",
      `sandbox '${spec.name}' holds no host uid on this server; destroy it and create it again`,
    );
  }
  return { id: spec.id, storageDir, hostUid, limits: spec.limits };
}

/** The host path of the sandbox's `/home/user`. */
export function homeDirOf(spec: HostSandbox): string {
  return join(spec.storageDir, "home");
}

/** Refuses a spec that could turn into a bwrap option or run sandboxed code as root. */
export function checkSpec(spec: HostSandbox): void {
  if (!storageIdPattern.test(spec.id))
    throw new Error(`bad sandbox storage id ${JSON.stringify(spec.id)}`);
  if (!Number.isInteger(spec.hostUid) || spec.hostUid <= 0 || spec.hostUid > 0xfffffffe) {
    throw new Error(`a sandbox needs a dedicated unprivileged host uid, got ${spec.hostUid}`);
  }
  if (!spec.storageDir.startsWith("/")) throw new Error("the storage dir must be an absolute path");
}

/**
 * Creates the storage (idempotent) with the right owner and modes. bwrap runs as the sandbox
 * uid and must traverse to the home to bind it, so every ancestor gets the search bit for
 * others (`o+x`, never `o+r`): names inside stay unlistable, and each storage dir is 0700.
 */
export async function prepareStorage(
  spec: HostSandbox,
  owned: boolean,
  disks?: DiskImages,
): Promise<void> {
  checkSpec(spec);
  const home = homeDirOf(spec);
  await disks?.mountHome(spec.storageDir, home, spec.limits.diskSize ?? 0, spec.hostUid);
  await mkdir(home, { recursive: true, mode: 0o700 });
  if (!owned) return;
  await chown(spec.storageDir, spec.hostUid, spec.hostUid);
  await chmod(spec.storageDir, 0o700);
  const homeInfo = await stat(home);
  if (homeInfo.uid !== spec.hostUid) await chown(home, spec.hostUid, spec.hostUid);
  await chmod(home, 0o750);
  await allowTraversal(dirname(spec.storageDir));
}

async function allowTraversal(dir: string): Promise<void> {
  for (let current = dir; ; current = dirname(current)) {
    const info = await stat(current);
    if ((info.mode & 0o001) === 0) await chmod(current, (info.mode & 0o7777) | 0o001);
    if (current === "/") return;
  }
}

/** Deletes the storage dir for good (symlinks inside are removed, never followed). */
export async function destroyStorage(storageDir: string, disks?: DiskImages): Promise<void> {
  // Unmounted first: the image (and its loop device) go with the directory.
  await disks?.unmount(join(storageDir, "home"));
  await rm(storageDir, { recursive: true, force: true });
}

/** A backend's storage steps (see `storageSteps`), on the spec the server passes. */
export interface StorageSteps {
  /** The sandbox's place on this host. */
  place(spec: SandboxSpec): HostSandbox;
  /** Makes the storage dir of a new sandbox, synchronously (the backend's `create`). */
  create(spec: SandboxSpec): void;
  /** Whether the storage dir is there (the backend's `hasStorage`). */
  hasStorage(spec: SandboxSpec): boolean;
  /** Creates the storage (the backend's `prepare`). */
  prepare(spec: SandboxSpec): Promise<void>;
  /** Creates the storage unless `prepare` just did (called by the backend's `start`). */
  ensure(spec: HostSandbox): Promise<void>;
  /** Deletes the storage for good, then frees the host uid (the backend's `destroy`). */
  destroy(spec: SandboxSpec): Promise<void>;
  /** Unmounts every disk image (the backend's `close`, once every sandbox stopped). */
  close(): Promise<void>;
}

/**
 * The storage steps of one backend. The manager calls `prepare` then `start`: the mark left by
 * `prepare` lets `start` skip a second full pass, while a `start` on its own still prepares.
 * With `disks`, homes get a disk quota (`limits.diskSize`).
 */
export function storageSteps(
  placement: HostPlacement,
  owned: boolean,
  disks?: DiskImages,
): StorageSteps {
  const justPrepared = new Set<string>();
  const place = (spec: SandboxSpec) => placeOnHost(spec, placement);
  return {
    place,
    create(spec) {
      const dir = storageDirOf(spec, placement);
      placement.hostUids.claim(spec.id);
      try {
        mkdirSync(dir, { recursive: true, mode: 0o700 });
      } catch (error) {
        placement.hostUids.release(spec.id);
        throw error;
      }
    },
    hasStorage: (spec) => existsSync(storageDirOf(spec, placement)),
    async prepare(spec) {
      await prepareStorage(place(spec), owned, disks);
      justPrepared.add(spec.id);
    },
    async ensure(spec) {
      // One-shot: a later start (storage maybe gone meanwhile) prepares again.
      if (!justPrepared.delete(spec.id)) await prepareStorage(spec, owned, disks);
    },
    async destroy(spec) {
      justPrepared.delete(spec.id);
      // By its path alone: a sandbox whose uid claim never happened still has storage to remove.
      await destroyStorage(storageDirOf(spec, placement), disks);
      // Last: only now does the uid own nothing of this sandbox, so it may be handed out again.
      placement.hostUids.release(spec.id);
    },
    async close() {
      await disks?.unmountAll();
    },
  };
}

/** Whether a path exists and is executable by us. */
export async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
