/**
 * Per-sandbox disk quotas: a sandbox's `home` is an ext4 filesystem in a sparse image file
 * (`<storage>/disk.img`) loop-mounted on `<storage>/home`, so the sandbox can never write more
 * than the image's size to the host's disk. RLIMIT_FSIZE only caps one file; this caps the sum.
 *
 * An image is formatted once, when the sandbox is created, and stays mounted while the server
 * runs (a sandbox restart reuses the mount); it is unmounted at destroy and at server close. A
 * server that crashed leaves the mount behind: the next one finds it in /proc/self/mountinfo.
 * Sandboxes created without an image (before quotas existed, with quotas off by configuration,
 * or on a host where the start-up probe found loop-mounted images unusable) keep their home as
 * a plain directory. A failure while making one sandbox's image fails that start (503) and
 * changes nothing for the next: isolation is never downgraded by a transient fault.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, open, readFile, rename, rm, rmdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { ServerError } from "../errors.ts";
import { checkRoomForImage } from "./disk-room.ts";

const run = promisify(execFile);
const toolEnv = { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" };
// nosuid/nodev: nothing on the image can gain privileges; discard: deleted files free host space.
const mountOptions = "loop,nosuid,nodev,discard";

/** The sandbox's disk image, inside its storage dir. */
export function diskImageOf(storageDir: string): string {
  return join(storageDir, "disk.img");
}

/** Runs one disk tool (`mkfs.ext4`, `mount`, `umount`) with its arguments; rejects on failure. */
export type DiskToolRunner = (tool: string, args: string[]) => Promise<unknown>;

/** Runs a disk tool with a minimal PATH (the default `DiskToolRunner`). */
export const runDiskTool: DiskToolRunner = (tool, args) => run(tool, args, { env: toolEnv });

/** Options of `createDiskImages`. */
export interface DiskImagesOptions {
  /** Where the start-up warning goes if quotas cannot work on this host. @default no log */
  log?: (line: string) => void;
  /** Whether new sandboxes get an image; only this turns quotas off. @default true */
  enabled?: boolean;
  /** Runs the disk tools (a test wraps it to inject a fault). @default execFile, minimal PATH */
  runTool?: DiskToolRunner;
  /**
   * How many times the data filesystem's free space the open promises of all images (sizes
   * minus allocated blocks) may add up to before a new image is refused with 507. @default 1
   */
  overcommit?: number;
}

/** Mounts and unmounts the disk images of one backend's sandboxes. */
export interface DiskImages {
  /**
   * Checks, once, whether loop-mounted images work on this host (later calls share the answer);
   * logs loudly if they do not although configuration wants them.
   */
  probe(): Promise<void>;
  /**
   * Makes `home` ready: mounts the sandbox's image there (formatting a new one first for a new
   * sandbox when `size` > 0 and quotas are on); leaves a legacy or quota-less home a plain
   * directory (not created). A failure rejects with a 503 and leaves nothing half-made.
   */
  mountHome(storageDir: string, home: string, size: number, ownerUid: number): Promise<void>;
  /** Unmounts the image from `home` if it is mounted (destroy). */
  unmount(home: string): Promise<void>;
  /** Unmounts every image this process mounted or reused (server close). */
  unmountAll(): Promise<void>;
}

const probeSize = 16 * 1024 ** 2;

/** Creates the disk image manager. */
export function createDiskImages(options: DiskImagesOptions = {}): DiskImages {
  const log = options.log ?? (() => {});
  const runTool = options.runTool ?? runDiskTool;
  const overcommit = options.overcommit ?? 1;
  const mounted = new Set<string>();
  let probing: Promise<boolean> | undefined;
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

  async function probeOnce(): Promise<boolean> {
    if (options.enabled === false) {
      log("lumina: disk quotas are off by configuration: every home is a plain host directory");
      return false;
    }
    const reason = await whyQuotasFail(runTool);
    if (reason === undefined) return true;
    log(
      `lumina: WARNING: per-sandbox disk quotas do not work on this host (${reason}): every sandbox's home is a plain host directory with no size limit, and one sandbox can fill the host's disk. Run the server as root with loop devices, or turn quotas off explicitly (diskQuota: false, --no-disk-quota)`,
    );
    return false;
  }
  const quotasWork = () => {
    probing ??= probeOnce();
    return probing;
  };

  async function mountImage(image: string, home: string): Promise<void> {
    if (mounted.has(home)) return;
    if (!(await isMountPoint(home))) {
      await mkdir(home, { recursive: true, mode: 0o700 });
      await runTool("mount", ["-t", "ext4", "-o", mountOptions, image, home]);
    } else {
      // A crashed server's mount is still there: reuse it, thawed if it died mid-snapshot.
      await runTool("fsfreeze", ["--unfreeze", home]).catch(() => {});
    }
    mounted.add(home);
  }

  async function unmount(home: string): Promise<void> {
    const known = mounted.delete(home);
    if (!known && !(await isMountPoint(home))) return;
    try {
      await runTool("umount", [home]);
    } catch {
      // Still busy (a process not yet reaped): detach now, the kernel finishes later.
      await runTool("umount", ["-l", home]).catch(() => {});
    }
  }

  /** Formats and mounts a new sandbox's image; on any failure undoes all of it and throws. */
  async function createImage(storageDir: string, home: string, size: number, ownerUid: number) {
    const image = diskImageOf(storageDir);
    try {
      await mkdir(storageDir, { recursive: true, mode: 0o700 });
      await formatImage(image, size, ownerUid, runTool);
      await mountImage(image, home);
      // The user should never see it; e2fsck makes a new one if it ever needs one.
      await rm(join(home, "lost+found"), { recursive: true, force: true });
    } catch (error) {
      // Nothing half-made stays: a home left without its image would later pass for a legacy one.
      await unmount(home).catch(() => {});
      await rm(image, { force: true }).catch(() => {});
      await rmdir(home).catch(() => {});
      throw new ServerError(
        "unavailable",
        `the server could not set up the sandbox's disk (${firstLine(error)}); try again in a moment`,
      );
    }
  }

  return {
    async probe() {
      await quotasWork();
    },
    async mountHome(storageDir, home, size, ownerUid) {
      const image = diskImageOf(storageDir);
      if (existsSync(image)) {
        try {
          return await mountImage(image, home);
        } catch (error) {
          throw new ServerError(
            "unavailable",
            `the server could not mount the sandbox's disk (${firstLine(error)}); try again in a moment`,
          );
        }
      }
      // A home without an image predates quotas (or was made without them): it stays plain.
      if (size <= 0 || existsSync(home)) return;
      if (!(await quotasWork())) return;
      const done = await takeTurn();
      try {
        await checkRoomForImage(dirname(storageDir), size, overcommit);
        await createImage(storageDir, home, size, ownerUid);
      } finally {
        done();
      }
    },
    unmount,
    async unmountAll() {
      await Promise.all([...mounted].map(unmount));
    },
  };
}

/** Why a small image cannot be formatted and loop-mounted here; undefined when it can. */
async function whyQuotasFail(runTool: DiskToolRunner): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return "the server does not run as root";
  if (!existsSync("/dev/loop-control")) return "no /dev/loop-control";
  const dir = await mkdtemp(join(tmpdir(), "lumina-quota-probe-"));
  const mountPoint = join(dir, "mnt");
  try {
    await formatImage(join(dir, "probe.img"), probeSize, 0, runTool);
    await mkdir(mountPoint);
    await runTool("mount", ["-t", "ext4", "-o", mountOptions, join(dir, "probe.img"), mountPoint]);
    await runTool("umount", [mountPoint]);
    return undefined;
  } catch (error) {
    if (await isMountPoint(mountPoint)) await runTool("umount", ["-l", mountPoint]).catch(() => {});
    return firstLine(error);
  } finally {
    await rm(dir, { recursive: true, force: true }).catch(() => {});
  }
}

/**
 * Formats a new sparse image under a temporary name, then renames it into place, so a crash
 * never leaves an unformatted `disk.img` behind.
 */
async function formatImage(
  image: string,
  size: number,
  ownerUid: number,
  runTool: DiskToolRunner,
): Promise<void> {
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
    await runTool("mkfs.ext4", ["-q", "-F", "-m", "0", "-E", extended, partial]);
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
