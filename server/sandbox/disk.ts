/**
 * Per-sandbox disk quotas: a sandbox's `home` is an ext4 filesystem in a sparse image file
 * (`<storage>/disk.img`) loop-mounted on `<storage>/home`, so the sandbox can never write more
 * than the image's size to the host's disk. RLIMIT_FSIZE only caps one file; this caps the sum.
 *
 * An image is formatted once, when the sandbox is created, and stays mounted while the server
 * runs (a sandbox restart reuses the mount); it is unmounted at destroy and at server close. A
 * server that crashed leaves the mount behind: the next one finds it in /proc/self/mountinfo.
 * Sandboxes created without an image (before quotas existed, or where mkfs/loop devices are
 * unavailable) keep their home as a plain directory.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, open, readFile, rename, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { checkRoomForImage } from "./disk-room.ts";

const run = promisify(execFile);
const toolEnv = { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" };
// nosuid/nodev: nothing on the image can gain privileges; discard: deleted files free host space.
const mountOptions = "loop,nosuid,nodev,discard";

/** The sandbox's disk image, inside its storage dir. */
export function diskImageOf(storageDir: string): string {
  return join(storageDir, "disk.img");
}

/** Mounts and unmounts the disk images of one backend's sandboxes. */
export interface DiskImages {
  /**
   * Makes `home` ready: mounts the sandbox's image there (formatting a new one first for a new
   * sandbox when `size` > 0); leaves a legacy or quota-less home a plain directory (not created).
   */
  mountHome(storageDir: string, home: string, size: number, ownerUid: number): Promise<void>;
  /** Unmounts the image from `home` if it is mounted (destroy). */
  unmount(home: string): Promise<void>;
  /** Unmounts every image this process mounted or reused (server close). */
  unmountAll(): Promise<void>;
}

/** Options of `createDiskImages`. */
export interface DiskImageOptions {
  /**
   * How many times the data filesystem's free space the open promises of all images (sizes
   * minus allocated blocks) may add up to before a new image is refused with 507. @default 1
   */
  overcommit?: number;
}

/** Creates the disk image manager; `log` gets one warning if quotas cannot work on this host. */
export function createDiskImages(
  log: (line: string) => void = () => {},
  options: DiskImageOptions = {},
): DiskImages {
  const overcommit = options.overcommit ?? 1;
  const mounted = new Set<string>();
  let lastTurn = Promise.resolve();
  // One admission at a time, held until the image file exists, so the next check counts it.
  const takeTurn = async (): Promise<() => void> => {
    let done = () => {};
    const previous = lastTurn;
    lastTurn = new Promise((resolve) => {
      done = resolve;
    });
    await previous;
    return done;
  };
  let supported = process.getuid?.() === 0 && existsSync("/dev/loop-control");
  let warned = false;
  const giveUp = (reason: string) => {
    supported = false;
    if (warned) return;
    warned = true;
    log(`lumina: WARNING: no per-sandbox disk quota (${reason}); homes are plain directories`);
  };

  async function mountImage(image: string, home: string): Promise<void> {
    if (mounted.has(home)) return;
    // A crashed server's mount is still there: reuse it.
    if (!(await isMountPoint(home))) {
      await mkdir(home, { recursive: true, mode: 0o700 });
      await run("mount", ["-t", "ext4", "-o", mountOptions, image, home], { env: toolEnv });
    }
    mounted.add(home);
  }

  async function unmount(home: string): Promise<void> {
    const known = mounted.delete(home);
    if (!known && !(await isMountPoint(home))) return;
    try {
      await run("umount", [home], { env: toolEnv });
    } catch {
      // Still busy (a process not yet reaped): detach now, the kernel finishes later.
      await run("umount", ["-l", home], { env: toolEnv }).catch(() => {});
    }
  }

  return {
    async mountHome(storageDir, home, size, ownerUid) {
      const image = diskImageOf(storageDir);
      if (existsSync(image)) return mountImage(image, home);
      // A home without an image predates quotas (or was made without them): it stays plain.
      if (size <= 0 || existsSync(home)) return;
      if (!supported) return giveUp("needs root and /dev/loop-control");
      await mkdir(storageDir, { recursive: true, mode: 0o700 });
      const done = await takeTurn();
      try {
        await checkRoomForImage(dirname(storageDir), size, overcommit);
      } catch (error) {
        done();
        throw error;
      }
      try {
        await formatImage(image, size, ownerUid);
      } catch (error) {
        return giveUp(`mkfs.ext4 failed: ${firstLine(error)}`);
      } finally {
        done();
      }
      try {
        await mountImage(image, home);
      } catch (error) {
        await rm(image, { force: true });
        return giveUp(`cannot loop-mount an image: ${firstLine(error)}`);
      }
      // The user should never see it; e2fsck makes a new one if it ever needs one.
      await rm(join(home, "lost+found"), { recursive: true, force: true });
    },
    unmount,
    async unmountAll() {
      await Promise.all([...mounted].map(unmount));
    },
  };
}

/**
 * Formats a new sparse image under a temporary name, then renames it into place, so a crash
 * never leaves an unformatted `disk.img` behind.
 */
async function formatImage(image: string, size: number, ownerUid: number): Promise<void> {
  const partial = `${image}.new`;
  const file = await open(partial, "w", 0o600);
  try {
    await file.truncate(size);
  } finally {
    await file.close();
  }
  try {
    const extended = `lazy_itable_init=1,lazy_journal_init=1,root_owner=${ownerUid}:${ownerUid}`;
    // -m 0: no blocks reserved for root, the sandbox gets the whole size.
    await run("mkfs.ext4", ["-q", "-F", "-m", "0", "-E", extended, partial], { env: toolEnv });
    await rename(partial, image);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
}

/** Whether `path` is a mount point in this process's mount namespace. */
export async function isMountPoint(path: string): Promise<boolean> {
  const table = await readFile("/proc/self/mountinfo", "utf8");
  for (const line of table.split("\n")) {
    const mountPoint = line.split(" ")[4];
    if (mountPoint !== undefined && unescapeMountinfo(mountPoint) === path) return true;
  }
  return false;
}

/** Mountinfo escapes space, tab, newline and backslash as octal (`\040`). */
function unescapeMountinfo(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) =>
    String.fromCharCode(Number.parseInt(octal, 8)),
  );
}

function firstLine(error: unknown): string {
  const text = (error as { stderr?: string }).stderr || String(error);
  return text.trim().split("\n")[0] ?? "";
}
