/**
 * Admission for new disk images. Images are sparse: each one promises its sandbox `diskSize`
 * bytes but takes host blocks only as the sandbox writes. A new image is refused (507
 * `disk_full`) unless the data filesystem's free space, times the overcommit ratio, covers
 * every promise still open (each image's size minus the blocks it already holds) plus the new one.
 */
import { readdir, stat, statfs } from "node:fs/promises";
import { join } from "node:path";
import { ServerError } from "../errors.ts";

const imageNames = ["disk.img", "disk.img.new"];

/** The bytes the images under `sandboxesDir` may still take from the host (size − allocated). */
export async function openPromises(sandboxesDir: string): Promise<number> {
  const ids = await readdir(sandboxesDir).catch(() => [] as string[]);
  let open = 0;
  for (const id of ids) {
    for (const name of imageNames) {
      const info = await stat(join(sandboxesDir, id, name)).catch(() => undefined);
      if (info) open += Math.max(0, info.size - info.blocks * 512);
    }
  }
  return open;
}

/** The bytes an unprivileged writer may still allocate on the filesystem holding `path`. */
export async function freeBytes(path: string): Promise<number> {
  const info = await statfs(path);
  return info.bavail * info.bsize;
}

/**
 * Throws 507 `disk_full` if a new image of `size` bytes would promise more than the free space
 * of the filesystem holding `sandboxesDir` times `overcommit` (1: never promise more than is free).
 */
export async function checkRoomForImage(
  sandboxesDir: string,
  size: number,
  overcommit: number,
): Promise<void> {
  await checkRoomFor(sandboxesDir, size, overcommit, `another sandbox disk of ${mib(size)}`);
}

/**
 * Throws 507 `disk_full` unless `bytes` more (named by `what`, for the message) fit beside the
 * promises of the images under `sandboxesDir`: the admission of images and snapshots alike.
 */
export async function checkRoomFor(
  sandboxesDir: string,
  bytes: number,
  overcommit: number,
  what: string,
): Promise<void> {
  const [open, free] = await Promise.all([openPromises(sandboxesDir), freeBytes(sandboxesDir)]);
  if (open + bytes <= free * overcommit) return;
  throw new ServerError(
    "disk_full",
    `the server's data disk cannot hold ${what}: ${mib(free)} is free and existing sandboxes may still fill ${mib(open)} of it; destroy sandboxes you no longer need, delete old snapshots, or ask the operator to add disk space or raise the overcommit ratio`,
  );
}

const mib = (bytes: number) => `${Math.floor(bytes / 1024 ** 2)} MiB`;
